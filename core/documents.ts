/**
 * The shapes of mandate/v1 documents after they pass their JSON Schema
 * (`schema/` is the source of truth; these types mirror it for the compiler).
 */

/** What a tool action does (FORMAT.md, Tool). */
export type Effect = 'read' | 'write' | 'delete' | 'execute' | 'egress';
/** Declared or computed risk tier, in increasing order. */
export type RiskTier = 'low' | 'medium' | 'high' | 'critical';
/** Data sensitivity, in increasing order. */
export type Sensitivity = 'public' | 'internal' | 'confidential' | 'restricted';
/** Lifecycle status of an agent. */
export type AgentStatus = 'proposed' | 'active' | 'suspended' | 'retired';
/** Kind of tool. */
export type ToolType = 'api' | 'mcp-server' | 'internal';
/** A rate limit as written. */
export interface RateLimit { max: number; per: 'minute' | 'hour' | 'day' }

/** One grant in an agent's `permissions`. */
export interface PermissionDoc {
  tool: string;
  actions: string[];
  resources?: string[];
  approval?: 'none' | 'required';
  rateLimit?: RateLimit;
  expires?: string;
  justification?: string;
}

/** One entry in an agent's `deny`. */
export interface DenyDoc {
  tool: string;
  actions: string[];
  resources?: string[];
  reason?: string;
}

/** One accepted risk in an agent's `exceptions`. */
export interface ExceptionDoc {
  rule: string;
  guardrail?: string;
  reason: string;
  approvedBy: string;
  expires: string;
}

/** kind: Agent. */
export interface AgentDoc {
  kind: 'Agent';
  id: string;
  name: string;
  purpose: string;
  owner: string;
  team?: string;
  status: AgentStatus;
  riskTier: RiskTier;
  lastReviewed?: string;
  model?: { provider: string; name: string; version?: string };
  aliases?: string[];
  exposure?: { untrustedInput?: boolean };
  delegatesTo?: string[];
  permissions: PermissionDoc[];
  deny?: DenyDoc[];
  exceptions?: ExceptionDoc[];
}

/** One action a tool declares. */
export interface ToolActionDoc { effect: Effect; data?: string[]; description?: string }

/** kind: Tool. */
export interface ToolDoc {
  kind: 'Tool';
  id: string;
  name: string;
  type: ToolType;
  vendor?: string;
  thirdParty?: boolean;
  vetting?: { status: 'approved' | 'pending' | 'rejected'; reviewedAt?: string; reviewer?: string; notes?: string };
  untrustedContent?: boolean;
  actions: Record<string, ToolActionDoc>;
}

/** kind: DataClass. */
export interface DataClassDoc { kind: 'DataClass'; id: string; sensitivity: Sensitivity; name?: string }
/** kind: Person. */
export interface PersonDoc { kind: 'Person'; id: string; name: string; github?: string; email?: string }
/** kind: Team. */
export interface TeamDoc { kind: 'Team'; id: string; members: string[]; github?: string; name?: string }

/** The selectors of a guardrail's `match`. */
export interface GuardrailMatch {
  effects?: Effect[];
  tools?: string[];
  actions?: string[];
  dataClasses?: string[];
  sensitivity?: Sensitivity[];
  riskTiers?: RiskTier[];
  agents?: string[];
  teams?: string[];
  toolTypes?: ToolType[];
}

/** What a guardrail requires of every permission it selects. */
export interface GuardrailRequire {
  approval?: 'required';
  forbid?: true;
  maxRate?: RateLimit;
  expiresWithinDays?: number;
  justification?: true;
}

/** kind: Guardrail. */
export interface GuardrailDoc {
  kind: 'Guardrail';
  id: string;
  description: string;
  severity: 'error' | 'warning';
  controls?: string[];
  match: GuardrailMatch;
  require: GuardrailRequire;
}

/** `count` approvals from the union of `from`. */
export interface ApprovalRequirementDoc { count: number; from: string[] }

/** kind: ApprovalRule. */
export interface ApprovalRuleDoc {
  kind: 'ApprovalRule';
  id: string;
  description?: string;
  when: { changes?: string[]; riskTiers?: RiskTier[]; agents?: string[]; teams?: string[]; tools?: string[] };
  require: ApprovalRequirementDoc;
}

/** kind: ControlCatalog. */
export interface ControlCatalogDoc {
  kind: 'ControlCatalog';
  id: string;
  title: string;
  objectives: { id: string; title: string; controls: { id: string; title: string; summary: string }[] }[];
}

/** kind: Applicability (the Statement of Applicability). */
export interface ApplicabilityDoc {
  kind: 'Applicability';
  id: string;
  decisions: { control: string; applicable: boolean; status: string; justification: string; evidence?: string[] }[];
}

/** kind: Config (mandate.yaml). */
export interface ConfigDoc {
  kind: 'Config';
  roots?: string[];
  defaultBranch?: string;
  reviewIntervalDays?: number;
  maxFileBytes?: number;
  rules?: Record<string, 'error' | 'warning' | 'off'>;
  admins?: string[];
  defaultApproval?: ApprovalRequirementDoc;
}

/** Any governance document kept in the model. */
export type GovernanceDoc =
  | AgentDoc | ToolDoc | DataClassDoc | PersonDoc | TeamDoc | GuardrailDoc | ApprovalRuleDoc | ControlCatalogDoc | ApplicabilityDoc;

const TIER_ORDER: readonly RiskTier[] = ['low', 'medium', 'high', 'critical'];
const SENSITIVITY_ORDER: readonly Sensitivity[] = ['public', 'internal', 'confidential', 'restricted'];

/** Position of a tier in low < medium < high < critical. */
export function tierRank(tier: RiskTier): number {
  return TIER_ORDER.indexOf(tier);
}

/** The tier at a rank (inverse of tierRank). */
export function tierAt(rank: number): RiskTier {
  return TIER_ORDER[rank]!;
}

/** Position of a sensitivity in public < internal < confidential < restricted. */
export function sensitivityRank(sensitivity: Sensitivity): number {
  return SENSITIVITY_ORDER.indexOf(sensitivity);
}

/** A rate limit as calls per hour, the unit every comparison uses (FORMAT.md). */
export function perHour(limit: RateLimit): number {
  return limit.per === 'minute' ? limit.max * 60 : limit.per === 'day' ? limit.max / 24 : limit.max;
}
