import type { AgentMemo, AgentReferences } from './agent-memo';
import { ANNEX_A_CONTROLS } from './annex-a';
import type { ResolvedConfig } from './config';
import { dayOf } from './dates';
import type { DayNumber } from './dates';
import type {
  AgentDoc, ApplicabilityDoc, ApprovalRuleDoc, ControlCatalogDoc, DataClassDoc, GovernanceDoc, GuardrailDoc,
  PersonDoc, RateLimit, TeamDoc, ToolDoc,
} from './documents';
import type { Finding, SourcePosition } from './finding';
import { compareStrings } from './finding';
import { coversEveryResource, expandActionPattern, isActionGlob } from './globs';
import { isRuleId, newFinding, ruleDefinition } from './rule-catalog';
import { closestName } from './spelling';
import type { ParsedDocument, PathSegment } from './yaml-safe';

/** A document kept in the model, with the way back to its source. */
export interface Located<D> {
  doc: D;
  source: ParsedDocument;
  subject: string;
}

/** A permission with its actions expanded against the tool's declared actions. */
export interface Grant {
  agent: string;
  index: number;
  tool: string;
  /** Declared actions it reaches (deduplicated, sorted). */
  actions: string[];
  /** Actions reached only through a glob (empty for most grants, so shared). */
  globActions: ReadonlySet<string>;
  /** Resource patterns, or undefined for every resource. */
  resources?: string[];
  gated: boolean;
  rateLimit?: RateLimit;
  expires?: DayNumber;
  justification?: string;
  position: SourcePosition;
}

/** A deny entry with its actions expanded. */
export interface DenyEntry {
  agent: string;
  index: number;
  tool: string;
  actions: string[];
  resources?: string[];
  position: SourcePosition;
}

/** The validated, resolved repository every rule, decision and diff works on. */
export interface Model {
  config: ResolvedConfig;
  today: DayNumber;
  agents: Map<string, Located<AgentDoc>>;
  tools: Map<string, Located<ToolDoc>>;
  dataClasses: Map<string, Located<DataClassDoc>>;
  people: Map<string, Located<PersonDoc>>;
  teams: Map<string, Located<TeamDoc>>;
  guardrails: Map<string, Located<GuardrailDoc>>;
  approvalRules: Map<string, Located<ApprovalRuleDoc>>;
  catalogs: Map<string, Located<ControlCatalogDoc>>;
  applicability: Map<string, Located<ApplicabilityDoc>>;
  controlIds: Set<string>;
  grants: Map<string, Grant[]>;
  denies: Map<string, DenyEntry[]>;
}

type Collections = Pick<
  Model, 'agents' | 'tools' | 'dataClasses' | 'people' | 'teams' | 'guardrails' | 'approvalRules' | 'catalogs' | 'applicability'
>;

const COLLECTION_OF: Record<GovernanceDoc['kind'], keyof Collections> = {
  Agent: 'agents',
  Tool: 'tools',
  DataClass: 'dataClasses',
  Person: 'people',
  Team: 'teams',
  Guardrail: 'guardrails',
  ApprovalRule: 'approvalRules',
  ControlCatalog: 'catalogs',
  Applicability: 'applicability',
};

const NO_ACTIONS: ReadonlySet<string> = new Set();

/**
 * Builds the model from shape-checked documents (in file order) and reports
 * model-level findings. `memo` must have entered this snapshot's context
 * (see agent-memo.ts); each agent's references are resolved once per context.
 */
export function buildModel(
  documents: readonly ParsedDocument[],
  config: ResolvedConfig,
  today: DayNumber,
  memo: AgentMemo,
): { model: Model; findings: Finding[] } {
  const findings: Finding[] = [];
  const model: Model = {
    config, today,
    agents: new Map(), tools: new Map(), dataClasses: new Map(), people: new Map(), teams: new Map(),
    guardrails: new Map(), approvalRules: new Map(), catalogs: new Map(), applicability: new Map(),
    controlIds: new Set(), grants: new Map(), denies: new Map(),
  };
  for (const source of documents) {
    const doc = source.value as GovernanceDoc;
    const collection = model[COLLECTION_OF[doc.kind]] as Map<string, Located<GovernanceDoc>>;
    const subject = `${doc.kind.toLowerCase()}:${doc.id}`;
    const first = collection.get(doc.id);
    if (first) {
      const at = first.source.position(['id']);
      findings.push(newFinding('duplicate-id', `${doc.kind} id \`${doc.id}\` is already defined at ${at.file}:${at.line}`, source.position(['id']), subject));
      continue;
    }
    collection.set(doc.id, { doc, source, subject });
  }
  model.controlIds = controlIdsOf(model);
  const check = new ReferenceChecker(model, findings);
  for (const located of model.agents.values()) {
    const results = memo.of(located.doc);
    results.references ??= check.agentReferences(located);
    const { grants, denies, findings: referenceFindings } = results.references;
    model.grants.set(located.doc.id, grants);
    model.denies.set(located.doc.id, denies);
    findings.push(...referenceFindings);
    check.delegation(located);
  }
  for (const located of model.tools.values()) check.tool(located);
  for (const located of model.teams.values()) check.team(located);
  for (const located of model.guardrails.values()) check.guardrail(located);
  for (const located of model.approvalRules.values()) check.approvalRule(located);
  for (const located of model.applicability.values()) check.applicability(located);
  findDelegationCycles(model, findings);
  return { model, findings };
}

function controlIdsOf(model: Model): Set<string> {
  if (model.catalogs.size === 0) return new Set(ANNEX_A_CONTROLS.map((control) => control.id));
  const ids = new Set<string>();
  for (const { doc } of model.catalogs.values()) {
    for (const objective of doc.objectives) for (const control of objective.controls) ids.add(control.id);
  }
  return ids;
}

type Report = (rule: 'unknown-reference' | 'unknown-action' | 'schema', located: Located<unknown>, path: PathSegment[], message: string) => void;

/** A reporter that adds findings to one list. */
function reportingTo(findings: Finding[]): Report {
  return (rule, located, path, message) => {
    findings.push(newFinding(rule, message, located.source.position(path), located.subject));
  };
}

/** Resolves references kind by kind, expanding action patterns into grants and denies on the way. */
class ReferenceChecker {
  private readonly actionsOfTool = new Map<string, string[]>();
  /** Expansions of action patterns per tool: repositories repeat the same few patterns thousands of times. */
  private readonly expansions = new Map<string, string[]>();

  private readonly report: Report;

  constructor(private readonly model: Model, findings: Finding[]) {
    this.report = reportingTo(findings);
  }

  /** Everything about an agent that depends on the non-agent documents alone: grants, denies and their findings. */
  agentReferences(located: Located<AgentDoc>): AgentReferences {
    const { doc } = located;
    const findings: Finding[] = [];
    const report = reportingTo(findings);
    this.expect(located, ['owner'], doc.owner, this.model.people, 'Person', report);
    if (doc.team !== undefined) this.expect(located, ['team'], doc.team, this.model.teams, 'Team', report);
    const grants: Grant[] = [];
    doc.permissions.forEach((permission, index) => {
      const path: PathSegment[] = ['permissions', index];
      const expanded = this.expandActions(located, path, permission.tool, permission.actions, report);
      if (!expanded) return;
      grants.push({
        agent: doc.id,
        index,
        tool: permission.tool,
        actions: expanded.actions,
        globActions: expanded.globActions,
        resources: permission.resources,
        gated: permission.approval === 'required',
        rateLimit: permission.rateLimit,
        expires: permission.expires === undefined ? undefined : dayOf(permission.expires),
        justification: permission.justification,
        position: located.source.position(path),
      });
    });
    const denies: DenyEntry[] = [];
    doc.deny?.forEach((deny, index) => {
      const path: PathSegment[] = ['deny', index];
      const expanded = this.expandActions(located, path, deny.tool, deny.actions, report);
      if (!expanded) return;
      denies.push({
        agent: doc.id, index, tool: deny.tool, actions: expanded.actions, resources: deny.resources,
        position: located.source.position(path),
      });
    });
    doc.exceptions?.forEach((exception, index) => {
      const path: PathSegment[] = ['exceptions', index];
      this.expect(located, [...path, 'approvedBy'], exception.approvedBy, this.model.people, 'Person', report);
      if (!isRuleId(exception.rule)) {
        report('unknown-reference', located, [...path, 'rule'], `rule \`${exception.rule}\` is not a built-in rule`);
      } else if (ruleDefinition(exception.rule).fixed) {
        report('schema', located, [...path, 'rule'], `rule \`${exception.rule}\` keeps the model sound and cannot be waived`);
      }
      if (exception.guardrail !== undefined) {
        this.expect(located, [...path, 'guardrail'], exception.guardrail, this.model.guardrails, 'Guardrail', report);
      }
    });
    return { grants, denies, findings };
  }

  /** Checks an agent's delegation references, which depend on the other agents. */
  delegation(located: Located<AgentDoc>): void {
    located.doc.delegatesTo?.forEach((delegate, index) => this.expect(located, ['delegatesTo', index], delegate, this.model.agents, 'Agent'));
  }

  tool(located: Located<ToolDoc>): void {
    const { doc } = located;
    for (const [action, definition] of Object.entries(doc.actions)) {
      definition.data?.forEach((dataClass, index) =>
        this.expect(located, ['actions', action, 'data', index], dataClass, this.model.dataClasses, 'DataClass'),
      );
    }
    if (doc.vetting?.reviewer !== undefined) {
      this.expect(located, ['vetting', 'reviewer'], doc.vetting.reviewer, this.model.people, 'Person');
    }
  }

  team(located: Located<TeamDoc>): void {
    located.doc.members.forEach((member, index) => this.expect(located, ['members', index], member, this.model.people, 'Person'));
  }

  guardrail(located: Located<GuardrailDoc>): void {
    const { match, controls } = located.doc;
    match.tools?.forEach((tool, index) => this.expect(located, ['match', 'tools', index], tool, this.model.tools, 'Tool'));
    match.dataClasses?.forEach((dataClass, index) =>
      this.expect(located, ['match', 'dataClasses', index], dataClass, this.model.dataClasses, 'DataClass'),
    );
    match.agents?.forEach((agent, index) => this.expect(located, ['match', 'agents', index], agent, this.model.agents, 'Agent'));
    match.teams?.forEach((team, index) => this.expect(located, ['match', 'teams', index], team, this.model.teams, 'Team'));
    controls?.forEach((control, index) => this.expectControl(located, ['controls', index], control));
    if (match.actions) {
      const toolIds = match.tools?.filter((tool) => this.model.tools.has(tool)) ?? [...this.model.tools.keys()];
      const declared = toolIds.flatMap((tool) => this.declaredActions(tool));
      match.actions.forEach((pattern, index) => {
        if (expandActionPattern(pattern, declared).length === 0) {
          const where = match.tools ? `the tools it selects (${toolIds.join(', ')})` : 'any tool';
          this.report('unknown-action', located, ['match', 'actions', index], `action pattern \`${pattern}\` matches no action of ${where}`);
        }
      });
    }
  }

  approvalRule(located: Located<ApprovalRuleDoc>): void {
    const { when, require } = located.doc;
    when.agents?.forEach((agent, index) => this.expect(located, ['when', 'agents', index], agent, this.model.agents, 'Agent'));
    when.teams?.forEach((team, index) => this.expect(located, ['when', 'teams', index], team, this.model.teams, 'Team'));
    when.tools?.forEach((tool, index) => this.expect(located, ['when', 'tools', index], tool, this.model.tools, 'Tool'));
    require.from.forEach((approver, index) => this.expectApprover(located, ['require', 'from', index], approver));
  }

  applicability(located: Located<ApplicabilityDoc>): void {
    located.doc.decisions.forEach((decision, index) => this.expectControl(located, ['decisions', index, 'control'], decision.control));
  }

  /** Checks `team:<id>` / `person:<id>` approver references (owner and team need nothing). */
  expectApprover(located: Located<unknown>, path: PathSegment[], approver: string): void {
    const [scope, id] = approver.split(':');
    if (id === undefined) return;
    if (scope === 'team') this.expect(located, path, id, this.model.teams, 'Team');
    else this.expect(located, path, id, this.model.people, 'Person');
  }

  private expandActions(
    located: Located<AgentDoc>,
    path: PathSegment[],
    tool: string,
    patterns: readonly string[],
    report: Report,
  ): { actions: string[]; globActions: ReadonlySet<string> } | undefined {
    if (!this.expect(located, [...path, 'tool'], tool, this.model.tools, 'Tool', report)) return undefined;
    const declared = this.declaredActions(tool);
    const actions = new Set<string>();
    const named = new Set<string>();
    const viaGlob = new Set<string>();
    patterns.forEach((pattern, index) => {
      const key = `${tool}\u0000${pattern}`;
      let matched = this.expansions.get(key);
      if (!matched) {
        matched = expandActionPattern(pattern, declared);
        this.expansions.set(key, matched);
      }
      if (matched.length === 0) {
        const suggestion = isActionGlob(pattern) ? undefined : closestName(pattern, declared);
        const what = isActionGlob(pattern) ? `action glob \`${pattern}\` matches no action` : `action \`${pattern}\` is not declared`;
        report('unknown-action', located, [...path, 'actions', index], `${what} by tool \`${tool}\`${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`);
      }
      for (const action of matched) {
        actions.add(action);
        (isActionGlob(pattern) ? viaGlob : named).add(action);
      }
    });
    const onlyViaGlob = [...viaGlob].filter((action) => !named.has(action));
    const globActions = onlyViaGlob.length === 0 ? NO_ACTIONS : new Set(onlyViaGlob);
    return { actions: [...actions].sort(compareStrings), globActions };
  }

  private declaredActions(tool: string): string[] {
    let declared = this.actionsOfTool.get(tool);
    if (!declared) {
      declared = Object.keys(this.model.tools.get(tool)?.doc.actions ?? {});
      this.actionsOfTool.set(tool, declared);
    }
    return declared;
  }

  private expectControl(located: Located<unknown>, path: PathSegment[], control: string): void {
    if (this.model.controlIds.has(control)) return;
    const suggestion = closestName(control, this.model.controlIds);
    this.report('unknown-reference', located, path, `control \`${control}\` is not in the control catalog${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`);
  }

  private expect<T>(
    located: Located<unknown>, path: PathSegment[], id: string, collection: Map<string, T>, kind: string, report: Report = this.report,
  ): boolean {
    if (collection.has(id)) return true;
    const suggestion = closestName(id, collection.keys());
    const field = path.filter((segment) => typeof segment === 'string').pop();
    report('unknown-reference', located, path, `${field} '${id}' is not a known ${kind}${suggestion ? `; did you mean '${suggestion}'?` : ''}`);
    return false;
  }


}

/** Reports each delegation cycle once, at the delegation entry of its smallest agent id. */
function findDelegationCycles(model: Model, findings: Finding[]): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (agent: string): void => {
    state.set(agent, 'visiting');
    stack.push(agent);
    for (const delegate of [...(model.agents.get(agent)?.doc.delegatesTo ?? [])].sort(compareStrings)) {
      if (!model.agents.has(delegate)) continue;
      const seen = state.get(delegate);
      if (seen === 'visiting') {
        const cycle = stack.slice(stack.indexOf(delegate));
        reportCycle(model, cycle, findings, reported);
      } else if (seen === undefined) {
        visit(delegate);
      }
    }
    stack.pop();
    state.set(agent, 'done');
  };
  for (const agent of [...model.agents.keys()].sort(compareStrings)) if (!state.has(agent)) visit(agent);
}

function reportCycle(model: Model, cycle: string[], findings: Finding[], reported: Set<string>): void {
  const start = cycle.indexOf([...cycle].sort(compareStrings)[0]!);
  const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
  const key = ordered.join('>');
  if (reported.has(key)) return;
  reported.add(key);
  const first = model.agents.get(ordered[0]!)!;
  const next = ordered[1 % ordered.length]!;
  const index = first.doc.delegatesTo?.indexOf(next) ?? 0;
  findings.push(newFinding(
    'delegation-cycle',
    `delegation cycle: ${[...ordered, ordered[0]].join(' -> ')}`,
    first.source.position(['delegatesTo', index]),
    first.subject,
  ));
}

/** Whether a grant is void on a day (past its expiry). */
export function isExpired(grant: { expires?: DayNumber }, today: DayNumber): boolean {
  return grant.expires !== undefined && grant.expires < today;
}

/** Whether a deny entry removes its actions for every resource. */
export function denyCoversEverything(deny: DenyEntry): boolean {
  return coversEveryResource(deny.resources);
}
