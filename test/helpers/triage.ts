// The support-triage agent the simulate tests replay calls against.

/**
 * support-triage (alias triage-prod): reads tickets in the support and
 * billing queues freely, comments in the support queue with the given
 * approval (with a YAML comment when required, which narrowing must keep),
 * and reads the help centre on every resource; `extra` is appended (more
 * permissions, say).
 */
export function triageAgent(commentApproval: 'required' | 'none', extra = ''): string {
  return `apiVersion: mandate/v1
kind: Agent
id: support-triage
name: Support triage
purpose: Classify inbound tickets.
owner: alice
team: support
status: active
riskTier: medium
lastReviewed: 2026-10-01
aliases: [triage-prod]
permissions:
  - tool: zendesk
    actions: [tickets.read]
    resources: ["queue/support/**", "queue/billing/**"]
    justification: Reads tickets.
  - tool: zendesk
    actions: [tickets.comment]
    resources: ["queue/support/**"]
    approval: ${commentApproval === 'required' ? 'required      # a support engineer approves each note' : 'none'}
    justification: Annotates tickets.
  - tool: zendesk
    actions: [docs.read]
    justification: Reads the help centre.
${extra}`;
}
