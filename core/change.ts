import type { Capability, CapabilityEntry } from './capability';
import type { Finding } from './finding';

/** Every kind of semantic change (CLI.md, `mandate diff`). */
export const CHANGE_KINDS = [
  'agent-added', 'agent-removed', 'agent-status-changed', 'owner-changed',
  'risk-tier-raised', 'risk-tier-lowered', 'grant-added', 'grant-removed',
  'grant-widened', 'grant-narrowed', 'approval-gate-added', 'approval-gate-removed',
  'rate-limit-raised', 'rate-limit-lowered', 'expiry-extended', 'expiry-shortened',
  'delegation-added', 'delegation-removed', 'deny-added', 'deny-removed',
  'exception-added', 'exception-removed', 'exposure-changed', 'agent-team-changed',
  'agent-details-changed', 'tool-added', 'tool-removed', 'tool-action-added',
  'tool-action-removed', 'tool-action-reclassified', 'tool-vetting-changed', 'tool-changed',
  'dataclass-changed', 'person-changed', 'team-changed', 'guardrail-changed',
  'approval-rule-changed', 'controls-changed', 'config-changed',
  'capability-gained', 'capability-lost',
] as const;

/** A kind of semantic change. */
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Whether a change adds access or removes a control (raises), the inverse (lowers), or neither. */
export type ChangeRisk = 'raises' | 'lowers' | 'neutral';

/** One semantic change between two snapshots, in the shape of CLI.md. */
export interface Change {
  kind: ChangeKind;
  /** `agent:ID`, `tool:ID`, ... or `config`. */
  subject: string;
  risk: ChangeRisk;
  /** One line a reviewer reads, e.g. "zendesk tickets.comment: resources queue/support/** -> **". */
  summary: string;
  /** Head side, or base side for removals. */
  file: string;
  line: number;
  controls: string[];
  owasp: string[];
  /** The tool and action a grant or capability change is about, for tables. */
  tool?: string;
  action?: string;
}

/** Before and after of one agent whose effective capability changed. */
export interface CapabilityDelta {
  agent: string;
  before: CapabilityEntry[];
  after: CapabilityEntry[];
  tierBefore?: string;
  tierAfter?: string;
}

/** Everything `mandate diff` reports about what a change does (approvals are computed separately). */
export interface SemanticDiff {
  changes: Change[];
  /** Agents the change puts in a lethal trifecta. */
  trifectas: string[];
  findings: { introduced: Finding[]; fixed: Finding[] };
  capabilities: CapabilityDelta[];
}

/** The verdict risk over a list of changes (CLI.md). */
export function overallRisk(changes: readonly Change[]): ChangeRisk | 'none' {
  if (changes.length === 0) return 'none';
  if (changes.some((change) => change.risk === 'raises')) return 'raises';
  if (changes.some((change) => change.risk === 'lowers')) return 'lowers';
  return 'neutral';
}

/** The capability sets of an agent, sorted, for before/after tables. */
export function sortedEntries(capability: Capability | undefined): CapabilityEntry[] {
  if (!capability) return [];
  return [...capability.entries.values()].sort((a, b) => (a.tool + a.action < b.tool + b.action ? -1 : 1));
}
