import type { ChangeKind } from './change';
import type { OwaspRiskId } from './owasp-agentic';

/** The ISO/IEC 42001 Annex A controls and OWASP agentic risks a kind of change bears on. */
export interface ChangeMapping {
  controls: readonly string[];
  owasp: readonly OwaspRiskId[];
}

const GRANT: ChangeMapping = { controls: ['A.9.2', 'A.4.2'], owasp: ['ASI02', 'ASI03'] };
const OVERSIGHT: ChangeMapping = { controls: ['A.9.2', 'A.6.2.6'], owasp: ['ASI02'] };
const AGENT_LIFECYCLE: ChangeMapping = { controls: ['A.6.2.5', 'A.4.2'], owasp: ['ASI10'] };
const TOOLING: ChangeMapping = { controls: ['A.4.4'], owasp: ['ASI02'] };

/**
 * Per kind, the controls a reviewer would cite (mirroring the rule catalog
 * where a rule covers the same ground). Deliberately narrow: metadata
 * changes claim no OWASP risk, and the Statement of Applicability (ISO/IEC
 * 42001 clause 6.1.3, not an Annex A control) claims no control.
 */
export const CHANGE_MAPPING: Readonly<Record<ChangeKind, ChangeMapping>> = {
  // Agent inventory and lifecycle (A.6.2.5 deployment, A.4.2 resource documentation; ASI10 rogue agents).
  'agent-added': AGENT_LIFECYCLE,
  'agent-removed': AGENT_LIFECYCLE,
  'agent-status-changed': { controls: ['A.6.2.5', 'A.6.2.6'], owasp: ['ASI10'] },
  // Accountability (A.3.2 roles, A.10.2 allocating responsibilities), as missing-owner.
  'owner-changed': { controls: ['A.3.2', 'A.10.2'], owasp: ['ASI10'] },
  'agent-team-changed': { controls: ['A.3.2'], owasp: [] },
  // Declared tier is the impact assessment's outcome (A.5.2, A.5.3), as risk-tier-understated.
  'risk-tier-raised': { controls: ['A.5.2', 'A.5.3'], owasp: [] },
  'risk-tier-lowered': { controls: ['A.5.2', 'A.5.3'], owasp: [] },
  'agent-details-changed': { controls: ['A.4.2'], owasp: [] },
  // Untrusted input is the prompt-injection path (ASI01 goal hijack).
  'exposure-changed': { controls: ['A.5.2'], owasp: ['ASI01'] },
  // Access (A.9.2 responsible use, A.4.2 documentation; ASI02 tool misuse, ASI03 privilege abuse), as wildcard-write.
  'grant-added': GRANT,
  'grant-removed': GRANT,
  'grant-widened': GRANT,
  'grant-narrowed': GRANT,
  'deny-added': GRANT,
  'deny-removed': GRANT,
  // Human oversight and operation (A.9.2, A.6.2.6), as ungated-destructive.
  'approval-gate-added': OVERSIGHT,
  'approval-gate-removed': OVERSIGHT,
  'rate-limit-raised': OVERSIGHT,
  'rate-limit-lowered': OVERSIGHT,
  // Standing access outliving its need (ASI03).
  'expiry-extended': { controls: ['A.9.2', 'A.6.2.6'], owasp: ['ASI03'] },
  'expiry-shortened': { controls: ['A.9.2', 'A.6.2.6'], owasp: ['ASI03'] },
  // Agent-to-agent invocation (A.6.2.2 requirements; ASI07 inter-agent, ASI03 privilege via a delegate).
  'delegation-added': { controls: ['A.6.2.2'], owasp: ['ASI07', 'ASI03'] },
  'delegation-removed': { controls: ['A.6.2.2'], owasp: ['ASI07', 'ASI03'] },
  // Accepted risks are impact-assessment decisions (A.5.2), as exception-expired.
  'exception-added': { controls: ['A.5.2'], owasp: [] },
  'exception-removed': { controls: ['A.5.2'], owasp: [] },
  // Tools (A.4.4 tooling resources; ASI02), suppliers (A.10.3; ASI04 supply chain), as unvetted-tool.
  'tool-added': TOOLING,
  'tool-removed': TOOLING,
  'tool-action-added': TOOLING,
  'tool-action-removed': TOOLING,
  'tool-action-reclassified': { controls: ['A.4.4', 'A.4.3'], owasp: ['ASI02'] },
  'tool-vetting-changed': { controls: ['A.10.3', 'A.4.4'], owasp: ['ASI04'] },
  'tool-changed': { controls: ['A.4.4'], owasp: [] },
  // Data resources (A.4.3).
  'dataclass-changed': { controls: ['A.4.3'], owasp: [] },
  // People and teams: roles (A.3.2), human resources (A.4.6).
  'person-changed': { controls: ['A.3.2', 'A.4.6'], owasp: [] },
  'team-changed': { controls: ['A.3.2'], owasp: [] },
  // Guardrails are organisation policy applied to use (A.2.2 AI policy, A.9.2).
  'guardrail-changed': { controls: ['A.2.2', 'A.9.2'], owasp: [] },
  // Who approves what (A.3.2 roles and responsibilities).
  'approval-rule-changed': { controls: ['A.3.2'], owasp: [] },
  'controls-changed': { controls: [], owasp: [] },
  'config-changed': { controls: ['A.3.2'], owasp: [] },
  // Effective capability (A.9.2, A.5.2 impact; ASI02, ASI03), as lethal-trifecta and the risk rules.
  'capability-gained': { controls: ['A.9.2', 'A.5.2'], owasp: ['ASI02', 'ASI03'] },
  'capability-lost': { controls: ['A.9.2', 'A.5.2'], owasp: ['ASI02', 'ASI03'] },
};
