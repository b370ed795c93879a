// Who must approve a pull request (FORMAT.md, Approvals). Rules, teams,
// people and config are read at the BASE snapshot, so a pull request that
// edits them cannot lower its own bar; the head snapshot only tells who
// owns an added agent and which exception an `exception-added` change adds.

import type { Capability } from './capability';
import { computedTier } from './capability';
import type { Change, ChangeKind } from './change';
import type { AgentDoc, ApprovalRuleDoc, ExceptionDoc, RiskTier } from './documents';
import { compareStrings } from './finding';
import type { Located, Model } from './model';
import type { Snapshot } from './validate';

/** The built-in requirement names (reserved ApprovalRule ids). */
export const DEFAULT_RULE = 'default';
export const GOVERNANCE_RULE = 'governance';
export const EXCEPTION_RULE = 'exception';

/** The `from` entry of the built-in governance requirement when Config has no `admins`. */
export const ANYONE = 'anyone';

/** A person who may give an approval, through their GitHub login at base. */
export interface EligibleApprover {
  person: string;
  github: string;
}

/** One requirement in the shape of CLI.md `approvals.required[]`, plus fields reviewers need. */
export interface ApprovalRequirement {
  /** ApprovalRule id, or `default`, `governance`, `exception`. */
  rule: string;
  /** Subjects it covers, sorted (`agent:ID`, `tool:ID`, ..., `config`). */
  subjects: string[];
  count: number;
  /** As written: `owner`, `team`, `team:<id>`, `person:<id>`, or `anyone` (built-in governance). */
  from: string[];
  /** People with a GitHub login at base who may approve, author excluded, sorted by person. */
  eligible: EligibleApprover[];
  /** False when fewer people are eligible than `count`: nobody can satisfy it as things stand. */
  satisfiable: boolean;
  /** The person ids `owner` resolved to (sorted; empty when `from` has no `owner`). */
  owners: string[];
  /** The team ids `team` resolved to (sorted; empty when `from` has no `team`). */
  teams: string[];
  /** The change kinds that created it, sorted. */
  changeKinds: ChangeKind[];
}

/** Options of requiredApprovals. */
export interface ApprovalOptions {
  /** GitHub login of the pull request's author: never eligible (compared case-insensitively). */
  author?: string;
}

/** Everything needed to resolve one requirement before merging. */
interface Draft {
  rule: string;
  subject: string;
  count: number;
  from: string[];
  people: Set<string>;
  owners: Set<string>;
  teams: Set<string>;
  kind: ChangeKind;
}

const BUILT_IN_DEFAULT = { count: 1, from: ['owner', 'team'] } as const;

/** The approvals a set of changes requires, per FORMAT.md "Approvals", merged and sorted. */
export function requiredApprovals(
  changes: readonly Change[],
  base: Snapshot,
  head: Snapshot,
  options: ApprovalOptions = {},
): ApprovalRequirement[] {
  const context = new ApprovalContext(base, head);
  const drafts: Draft[] = [];
  const rules = [...base.model.approvalRules.values()].map((located) => located.doc).sort((a, b) => compareStrings(a.id, b.id));
  for (const change of changes) {
    const agentId = agentOf(change.subject);
    let matched = false;
    for (const rule of rules) {
      if (!context.matches(rule, change, agentId)) continue;
      matched = true;
      drafts.push(context.draft(rule.id, change, agentId, rule.require.count, rule.require.from));
    }
    if (agentId === undefined) {
      const admins = base.config.admins;
      drafts.push(admins
        ? context.draft(GOVERNANCE_RULE, change, undefined, 1, admins)
        : { ...context.draft(GOVERNANCE_RULE, change, undefined, 1, [ANYONE]), people: new Set(base.model.people.keys()) });
    } else if (!matched) {
      const fallback = base.config.defaultApproval ?? BUILT_IN_DEFAULT;
      drafts.push(context.draft(DEFAULT_RULE, change, agentId, fallback.count, [...fallback.from]));
    }
    if (change.kind === 'exception-added' && agentId !== undefined) {
      for (const exception of context.addedExceptions(change, agentId)) {
        drafts.push(context.draft(EXCEPTION_RULE, change, agentId, 1, [`person:${exception.approvedBy}`]));
      }
    }
  }
  return mergeDrafts(drafts, base.model, options.author);
}

/** `agent:ID` -> ID; undefined for every other subject. */
function agentOf(subject: string): string | undefined {
  return subject.startsWith('agent:') ? subject.slice('agent:'.length) : undefined;
}

/** Lookups over the two snapshots, memoised per agent. */
class ApprovalContext {
  private readonly tiers = new Map<string, Set<RiskTier>>();

  constructor(private readonly base: Snapshot, private readonly head: Snapshot) {}

  /** Whether every field given in the rule's `when` matches the change. */
  matches(rule: ApprovalRuleDoc, change: Change, agentId: string | undefined): boolean {
    const { when } = rule;
    if (when.changes && !when.changes.includes(change.kind)) return false;
    if (when.agents && (agentId === undefined || !when.agents.includes(agentId))) return false;
    if (when.teams) {
      if (agentId === undefined) return false;
      const teams = [this.base, this.head].map((side) => side.model.agents.get(agentId)?.doc.team);
      if (!teams.some((team) => team !== undefined && when.teams!.includes(team))) return false;
    }
    if (when.riskTiers) {
      if (agentId === undefined) return false;
      const tiers = this.tiersOf(agentId);
      if (!when.riskTiers.some((tier) => tiers.has(tier))) return false;
    }
    if (when.tools) {
      const tool = change.subject.startsWith('tool:') ? change.subject.slice('tool:'.length) : change.tool;
      if (tool === undefined || !when.tools.includes(tool)) return false;
    }
    return true;
  }

  /** Declared and computed tiers of an agent at base and at head ("lowering a tier does not dodge the rule"). */
  private tiersOf(agentId: string): Set<RiskTier> {
    let tiers = this.tiers.get(agentId);
    if (tiers) return tiers;
    tiers = new Set();
    for (const side of [this.base, this.head]) {
      const agent = side.model.agents.get(agentId);
      if (agent) tiers.add(agent.doc.riskTier);
      const capability: Capability | undefined = side.capabilities.get(agentId);
      if (capability) tiers.add(computedTier(side.model, capability).tier);
    }
    this.tiers.set(agentId, tiers);
    return tiers;
  }

  /** The agent whose owner and team count: at base, or at head for an added agent. */
  private ownerSide(agentId: string): AgentDoc | undefined {
    return (this.base.model.agents.get(agentId) ?? this.head.model.agents.get(agentId))?.doc;
  }

  /** Resolves `from` to people (at base) for one change's subject. */
  draft(rule: string, change: Change, agentId: string | undefined, count: number, from: readonly string[]): Draft {
    const people = new Set<string>();
    const owners = new Set<string>();
    const teams = new Set<string>();
    const agent = agentId === undefined ? undefined : this.ownerSide(agentId);
    const model = this.base.model;
    for (const approver of from) {
      if (approver === 'owner') {
        if (agent) {
          owners.add(agent.owner);
          people.add(agent.owner);
        }
      } else if (approver === 'team') {
        if (agent?.team !== undefined) {
          teams.add(agent.team);
          for (const member of model.teams.get(agent.team)?.doc.members ?? []) people.add(member);
        }
      } else if (approver.startsWith('team:')) {
        for (const member of model.teams.get(approver.slice('team:'.length))?.doc.members ?? []) people.add(member);
      } else if (approver.startsWith('person:')) {
        people.add(approver.slice('person:'.length));
      }
    }
    return { rule, subject: change.subject, count, from: [...from], people, owners, teams, kind: change.kind };
  }

  /**
   * The exceptions an `exception-added` change is about, from the head model: the one
   * whose lines contain the change's line; else those with no identical exception at
   * base; else (never silently require nobody) every exception of the agent.
   */
  addedExceptions(change: Change, agentId: string): ExceptionDoc[] {
    const located = this.head.model.agents.get(agentId);
    const exceptions = located?.doc.exceptions ?? [];
    if (!located || exceptions.length === 0) return [];
    const atLine = exceptions.filter((_, index) => exceptionSpans(located, index, change));
    if (atLine.length > 0) return atLine;
    const before = this.base.model.agents.get(agentId)?.doc.exceptions ?? [];
    const fresh = exceptions.filter((exception) => !before.some((old) => sameException(old, exception)));
    return fresh.length > 0 ? fresh : exceptions;
  }
}

/** Whether the change's file:line falls on the lines of the agent's exception at `index`. */
function exceptionSpans(located: Located<AgentDoc>, index: number, change: Change): boolean {
  const start = located.source.position(['exceptions', index]);
  if (start.file !== change.file) return false;
  const fields = ['rule', 'guardrail', 'reason', 'approvedBy', 'expires'];
  const end = Math.max(start.line, ...fields.map((field) => located.source.position(['exceptions', index, field]).line));
  return change.line >= start.line && change.line <= end;
}

function sameException(a: ExceptionDoc, b: ExceptionDoc): boolean {
  return a.rule === b.rule && a.guardrail === b.guardrail && a.approvedBy === b.approvedBy && a.expires === b.expires;
}

/** Resolves people to logins at base, drops the author, and merges same rule + count + from + eligible. */
function mergeDrafts(drafts: readonly Draft[], model: Model, author: string | undefined): ApprovalRequirement[] {
  const authorLogin = author?.toLowerCase();
  const merged = new Map<string, ApprovalRequirement & { subjectSet: Set<string>; kindSet: Set<ChangeKind>; ownerSet: Set<string>; teamSet: Set<string> }>();
  for (const draft of drafts) {
    const eligible: EligibleApprover[] = [];
    for (const person of draft.people) {
      const github = model.people.get(person)?.doc.github;
      if (github === undefined || github.toLowerCase() === authorLogin) continue;
      eligible.push({ person, github });
    }
    eligible.sort((a, b) => compareStrings(a.person, b.person) || compareStrings(a.github, b.github));
    const key = JSON.stringify([draft.rule, draft.count, draft.from, eligible.map((approver) => approver.person)]);
    let requirement = merged.get(key);
    if (!requirement) {
      requirement = {
        rule: draft.rule, subjects: [], count: draft.count, from: draft.from, eligible,
        satisfiable: eligible.length >= draft.count, owners: [], teams: [], changeKinds: [],
        subjectSet: new Set(), kindSet: new Set(), ownerSet: new Set(), teamSet: new Set(),
      };
      merged.set(key, requirement);
    }
    requirement.subjectSet.add(draft.subject);
    requirement.kindSet.add(draft.kind);
    for (const owner of draft.owners) requirement.ownerSet.add(owner);
    for (const team of draft.teams) requirement.teamSet.add(team);
  }
  const result: ApprovalRequirement[] = [];
  for (const { subjectSet, kindSet, ownerSet, teamSet, ...requirement } of merged.values()) {
    result.push({
      ...requirement,
      subjects: [...subjectSet].sort(compareStrings),
      owners: [...ownerSet].sort(compareStrings),
      teams: [...teamSet].sort(compareStrings),
      changeKinds: [...kindSet].sort(compareStrings),
    });
  }
  return result.sort((a, b) =>
    compareStrings(a.rule, b.rule) ||
    compareStrings(a.subjects.join('\n'), b.subjects.join('\n')) ||
    a.count - b.count ||
    compareStrings(a.from.join('\n'), b.from.join('\n')),
  );
}

/** A review that approved the pull request at one commit. */
export interface GivenApproval {
  github: string;
  commit: string;
}

/** A requirement with the approvals that count toward it. */
export interface EvaluatedRequirement extends ApprovalRequirement {
  /** Eligible people whose approval counts, sorted by person. */
  approvedBy: EligibleApprover[];
  /** Approvals still needed (0 when satisfied). */
  missing: number;
  satisfied: boolean;
}

/** The approval state of a pull request. */
export interface ApprovalEvaluation {
  /** Every requirement satisfied. */
  satisfied: boolean;
  requirements: EvaluatedRequirement[];
}

/**
 * Which requirements the given approvals satisfy. An approval counts only when it was
 * given on `headSha`; logins in `excluded` (author, committers, co-authors) never count;
 * logins compare case-insensitively; one approval may satisfy several requirements.
 */
export function evaluateApprovals(
  required: readonly ApprovalRequirement[],
  approvals: readonly GivenApproval[],
  headSha: string,
  excluded: readonly string[],
): ApprovalEvaluation {
  const barred = new Set(excluded.map((login) => login.toLowerCase()));
  const approvers = new Set<string>();
  for (const approval of approvals) {
    const login = approval.github.toLowerCase();
    if (approval.commit === headSha && !barred.has(login)) approvers.add(login);
  }
  const requirements = required.map((requirement): EvaluatedRequirement => {
    const approvedBy = requirement.eligible.filter((approver) => approvers.has(approver.github.toLowerCase()));
    const missing = Math.max(0, requirement.count - approvedBy.length);
    return { ...requirement, approvedBy, missing, satisfied: missing === 0 };
  });
  return { satisfied: requirements.every((requirement) => requirement.satisfied), requirements };
}
