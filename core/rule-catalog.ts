import type { Finding, Severity, SourcePosition } from './finding';
import type { OwaspRiskId } from './owasp-agentic';

/** Every built-in rule id (CLI.md, `mandate validate`). */
export type RuleId =
  | 'yaml-syntax'
  | 'yaml-limit'
  | 'forbidden-key'
  | 'duplicate-key'
  | 'schema'
  | 'duplicate-id'
  | 'unknown-reference'
  | 'unknown-action'
  | 'delegation-cycle'
  | 'unreadable-file'
  | 'secret-in-policy'
  | 'lethal-trifecta'
  | 'risk-tier-understated'
  | 'unvetted-tool'
  | 'guardrail'
  | 'missing-owner'
  | 'ungated-destructive'
  | 'wildcard-write'
  | 'review-overdue'
  | 'grant-expired'
  | 'inactive-agent-grants'
  | 'exception-expired'
  | 'empty-file';

/** What the catalog says of one rule; `mandate rules` prints it. */
export interface RuleDefinition {
  id: RuleId;
  severity: Severity;
  description: string;
  controls: string[];
  owasp: OwaspRiskId[];
  rationale: string;
  /** Rules that keep the model sound: always errors, never configurable or waivable (FORMAT.md). */
  fixed: boolean;
}

/** The rule catalog, in the order CLI.md lists it. */
export const RULES: readonly RuleDefinition[] = [
  {
    id: 'yaml-syntax', severity: 'error', fixed: true,
    description: 'Malformed YAML, tab indentation, or bytes that are not UTF-8.',
    controls: ['A.6.2.7'], owasp: [],
    rationale: 'A file no parser reads the same way twice cannot document anything; the governance record must be machine-readable to be evidence.',
  },
  {
    id: 'yaml-limit', severity: 'error', fixed: true,
    description: 'A file over maxFileBytes, or alias expansion or nesting over the caps.',
    controls: ['A.6.2.7'], owasp: [],
    rationale: 'Alias bombs and deep nesting are denial-of-service against every tool that reads the repository, including CI on hostile pull requests.',
  },
  {
    id: 'forbidden-key', severity: 'error', fixed: true,
    description: 'A __proto__, constructor or prototype key.',
    controls: ['A.6.2.7'], owasp: [],
    rationale: 'These keys poison object prototypes in JavaScript consumers; no governance field needs them.',
  },
  {
    id: 'duplicate-key', severity: 'error', fixed: true,
    description: 'A key that appears twice in one map.',
    controls: ['A.6.2.7'], owasp: [],
    rationale: 'With a duplicate key, a reviewer reads one value and a parser may use the other: an approved diff could grant something nobody saw.',
  },
  {
    id: 'schema', severity: 'error', fixed: true,
    description: 'Wrong shape: missing or unknown kind or apiVersion, bad id, wrong type or enum, bad date, non-finite or non-integer number.',
    controls: ['A.4.2', 'A.6.2.7'], owasp: [],
    rationale: 'Every later rule, decision and diff relies on the documented shape; a document of the wrong shape is left out of the model rather than guessed at.',
  },
  {
    id: 'duplicate-id', severity: 'error', fixed: true,
    description: 'Two documents of one kind with the same id.',
    controls: ['A.4.2'], owasp: ['ASI03'],
    rationale: 'An id must name one thing: two agents under one id make it impossible to say which permissions a runtime identity holds.',
  },
  {
    id: 'unknown-reference', severity: 'error', fixed: true,
    description: 'A reference to a Person, Team, Tool, DataClass, Agent or control that does not exist.',
    controls: ['A.3.2', 'A.4.2'], owasp: ['ASI03'],
    rationale: 'Accountability needs a real owner and resolvable tools and data; a dangling reference is an unowned or undocumented capability.',
  },
  {
    id: 'unknown-action', severity: 'error', fixed: true,
    description: 'An action name or glob that matches no action the Tool declares.',
    controls: ['A.4.4'], owasp: ['ASI02'],
    rationale: 'A grant on an undeclared action has no known effect or data; it either does nothing or hides an action nobody classified.',
  },
  {
    id: 'delegation-cycle', severity: 'error', fixed: true,
    description: 'Agents that delegate to each other in a cycle.',
    controls: ['A.6.2.2'], owasp: ['ASI07', 'ASI08'],
    rationale: 'A delegation cycle makes effective capability ill-defined and lets calls loop between agents without a bound.',
  },
  {
    id: 'unreadable-file', severity: 'error', fixed: false,
    description: 'A governance file that cannot be read, or a symlink (never followed).',
    controls: ['A.6.2.7'], owasp: ['ASI04'],
    rationale: 'A file the tool cannot read is governance nobody checked; a symlink could pull content from outside the reviewed repository.',
  },
  {
    id: 'secret-in-policy', severity: 'error', fixed: true,
    description: 'A credential in a governance file (the message never repeats it).',
    controls: ['A.6.2.7', 'A.4.4'], owasp: ['ASI03'],
    rationale: 'Policy files are read by every reviewer, CI job and audit export; a credential there is already leaked and must be rotated.',
  },
  {
    id: 'lethal-trifecta', severity: 'error', fixed: false,
    description: 'An agent that reads confidential data, is exposed to untrusted content and has an ungated egress.',
    controls: ['A.5.2', 'A.6.2.2', 'A.9.2'], owasp: ['ASI01', 'ASI02'],
    rationale: 'Untrusted content can instruct an agent to send what it can read to whoever the attacker names; breaking any leg of the triangle (a gate on egress) stops the exfiltration.',
  },
  {
    id: 'risk-tier-understated', severity: 'error', fixed: false,
    description: 'A declared riskTier below the tier computed from effective capability.',
    controls: ['A.5.2', 'A.5.3'], owasp: ['ASI03'],
    rationale: 'Approval rules and guardrails select by declared tier; an understated tier routes a dangerous agent around the scrutiny it needs.',
  },
  {
    id: 'unvetted-tool', severity: 'error', fixed: false,
    description: 'An active agent granted a tool whose vetting is pending or rejected, or a third-party tool with no vetting.',
    controls: ['A.10.3', 'A.4.4'], owasp: ['ASI04'],
    rationale: 'Third-party tools and MCP servers are supply chain: an agent should only run with tools someone reviewed and approved.',
  },
  {
    id: 'guardrail', severity: 'error', fixed: false,
    description: 'A permission that breaks an organisation-wide Guardrail (severity is the Guardrail\'s).',
    controls: ['A.9.2'], owasp: ['ASI02'],
    rationale: 'Guardrails state rules no single agent file may override; each violating permission is reported where it is written.',
  },
  {
    id: 'missing-owner', severity: 'error', fixed: false,
    description: 'An active agent whose owner has no github login, so nobody can approve its changes.',
    controls: ['A.3.2', 'A.10.2'], owasp: ['ASI10'],
    rationale: 'Owner approval is matched by GitHub login; an owner without one cannot sign changes to the agent they are accountable for.',
  },
  {
    id: 'ungated-destructive', severity: 'warning', fixed: false,
    description: 'An ungated delete or execute permission.',
    controls: ['A.9.2', 'A.6.2.6'], owasp: ['ASI02', 'ASI05'],
    rationale: 'Deleting data or running code cannot be undone by a reviewer after the fact; a human in the loop on each call bounds the damage.',
  },
  {
    id: 'wildcard-write', severity: 'warning', fixed: false,
    description: 'Write, delete, execute or egress on every resource, or through an action glob.',
    controls: ['A.9.2', 'A.4.2'], owasp: ['ASI02', 'ASI03'],
    rationale: 'Least privilege: a glob silently grows when the tool adds actions, and an unscoped write reaches data nobody meant to expose.',
  },
  {
    id: 'review-overdue', severity: 'warning', fixed: false,
    description: 'An active agent not reviewed within reviewIntervalDays (default 180), or never.',
    controls: ['A.6.2.6', 'A.9.2'], owasp: ['ASI10'],
    rationale: 'Access that nobody re-confirms drifts from need; periodic access reviews are the evidence that scope is still intended.',
  },
  {
    id: 'grant-expired', severity: 'warning', fixed: false,
    description: 'A grant past its expires date (it is void).',
    controls: ['A.6.2.6'], owasp: [],
    rationale: 'An expired grant no longer allows anything; leaving it in the file misleads readers about what the agent can do.',
  },
  {
    id: 'inactive-agent-grants', severity: 'warning', fixed: false,
    description: 'A retired agent that still lists permissions.',
    controls: ['A.6.2.5', 'A.4.2'], owasp: ['ASI10'],
    rationale: 'Retiring an agent should revoke its credentials; permissions left behind are one status change from being live again.',
  },
  {
    id: 'exception-expired', severity: 'warning', fixed: false,
    description: 'An exception past its expires date.',
    controls: ['A.5.2', 'A.6.2.6'], owasp: [],
    rationale: 'Accepted risks are time-boxed; once the date passes the risk is counted again and the exception should be renewed or removed.',
  },
  {
    id: 'empty-file', severity: 'error', fixed: false,
    description: 'A governance file with no document.',
    controls: ['A.6.2.7'], owasp: [],
    rationale: 'An empty file under the roots is usually a botched edit or a failed generation step; it documents nothing.',
  },
];

const RULES_BY_ID = new Map<RuleId, RuleDefinition>(RULES.map((rule) => [rule.id, rule]));

/** The catalog entry of a rule id. */
export function ruleDefinition(id: RuleId): RuleDefinition {
  const rule = RULES_BY_ID.get(id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
}

/** Whether a string is a built-in rule id. */
export function isRuleId(id: string): id is RuleId {
  return RULES_BY_ID.has(id as RuleId);
}

/** A finding of `rule` at `position` with the rule's default severity and its control mappings. */
export function newFinding(rule: RuleId, message: string, position: SourcePosition, subject: string): Finding {
  const definition = ruleDefinition(rule);
  return {
    rule,
    severity: definition.severity,
    message,
    file: position.file,
    line: position.line,
    column: position.column,
    subject,
    // Shared with the catalog (never mutated): a large repository has ~100,000 findings.
    controls: definition.controls,
    owasp: definition.owasp,
  };
}
