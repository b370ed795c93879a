/**
 * Changes to the documents that are not agents: Tools, DataClasses,
 * People, Teams, Guardrails, ApprovalRules, the control catalog and
 * Statement of Applicability, and `mandate.yaml` (CLI.md, `mandate diff`).
 * Documents are matched by id and compared by parsed value (`canonical`),
 * never by text, so moving, splitting, merging, reordering and comments
 * change nothing.
 */
import { canonical, changedKeys, deepEqual, sameValue } from './canonical';
import { dataOrder, describeData, effectOrder } from './capability-diff';
import type { DraftChange } from './change-draft';
import { combinedRisk, riskOf } from './change-draft';
import type { ResolvedConfig } from './config';
import type {
  ApprovalRuleDoc, DataClassDoc, GuardrailDoc, GuardrailRequire, RateLimit, TeamDoc, ToolActionDoc, ToolDoc,
} from './documents';
import { perHour, sensitivityRank } from './documents';
import type { SourcePosition } from './finding';
import { compareStrings } from './finding';
import type { Located, Model } from './model';
import type { Snapshot } from './validate';
import { CONFIG_FILE } from './validate';

/** Every change to a non-agent document between two snapshots. */
export function diffDocuments(base: Snapshot, head: Snapshot): DraftChange[] {
  const changes: DraftChange[] = [];
  const b = base.model;
  const h = head.model;
  pairs(b.tools, h.tools, (was, now) => diffTool(was, now, b, h, changes));
  pairs(b.dataClasses, h.dataClasses, (was, now) => diffDataClass(was, now, changes));
  pairs(b.people, h.people, (was, now) => diffPlain('person-changed', 'person', was, now, changes));
  pairs(b.teams, h.teams, (was, now) => diffTeam(was, now, changes));
  pairs(b.guardrails, h.guardrails, (was, now) => diffGuardrail(was, now, changes));
  pairs(b.approvalRules, h.approvalRules, (was, now) => diffApprovalRule(was, now, changes));
  pairs(b.catalogs, h.catalogs, (was, now) => diffPlain('controls-changed', 'control catalog', was, now, changes));
  pairs(b.applicability, h.applicability, (was, now) => diffApplicability(was, now, changes));
  diffConfig(base.config, head.config, changes);
  return changes;
}

/** Calls `compare` for every id at either side whose documents differ in meaning. */
function pairs<D>(base: Map<string, Located<D>>, head: Map<string, Located<D>>, compare: (was: Located<D> | undefined, now: Located<D> | undefined) => void): void {
  for (const [id, now] of head) {
    const was = base.get(id);
    if (!was || (!deepEqual(was.doc, now.doc) && canonical(was.doc) !== canonical(now.doc))) compare(was, now);
  }
  for (const [id, was] of base) if (!head.has(id)) compare(was, undefined);
}

function draft(kind: DraftChange['kind'], risk: DraftChange['risk'], located: Located<unknown>, summary: string, at: SourcePosition, tool?: string, action?: string): DraftChange {
  const change: DraftChange = { kind, risk, subject: located.subject, summary, at };
  if (tool !== undefined) change.tool = tool;
  if (action !== undefined) change.action = action;
  return change;
}

/** Where the first of some changed keys is, at head, or the document itself. */
function firstKey(located: Located<unknown>, keys: readonly string[]): SourcePosition {
  return located.source.position(keys.length > 0 ? [keys[0]!] : [], 'key');
}

/** Added and removed documents of kinds whose changes carry no direction. */
function diffPlain(kind: DraftChange['kind'], noun: string, was: Located<object> | undefined, now: Located<object> | undefined, changes: DraftChange[]): void {
  if (!was) changes.push(draft(kind, 'neutral', now!, `${noun} added`, now!.source.position([])));
  else if (!now) changes.push(draft(kind, 'neutral', was, `${noun} removed`, was.source.position([])));
  else {
    const keys = changedKeys(was.doc, now.doc);
    changes.push(draft(kind, 'neutral', now, `${noun} changed: ${keys.join(', ')}`, firstKey(now, keys)));
  }
}

// Tools ------------------------------------------------------------------------------------------

const VETTING_RANK: Readonly<Record<string, number>> = { rejected: 0, none: 1, pending: 1, approved: 2 };

function vettingStatus(tool: ToolDoc): string {
  return tool.vetting?.status ?? 'none';
}

function describeAction(action: ToolActionDoc): string {
  return action.data && action.data.length > 0 ? `${action.effect} on ${describeData(action.data)}` : action.effect;
}

function diffTool(was: Located<ToolDoc> | undefined, now: Located<ToolDoc> | undefined, baseModel: Model, headModel: Model, changes: DraftChange[]): void {
  if (!was || !now) {
    const located = (now ?? was)!;
    const count = Object.keys(located.doc.actions).length;
    const what = `${located.doc.type} tool with ${count} action${count === 1 ? '' : 's'}`;
    changes.push(now
      ? draft('tool-added', 'raises', now, `tool added (${what})`, now.source.position([]), now.doc.id)
      : draft('tool-removed', 'lowers', was!, `tool removed (was a ${what})`, was!.source.position([]), was!.doc.id));
    return;
  }
  const tool = now.doc.id;
  const other: string[] = [];
  const names = new Set([...Object.keys(was.doc.actions), ...Object.keys(now.doc.actions)]);
  for (const name of [...names].sort(compareStrings)) {
    const before = was.doc.actions[name];
    const after = now.doc.actions[name];
    if (!before) {
      changes.push(draft('tool-action-added', 'raises', now, `action ${name} added (${describeAction(after!)})`, now.source.position(['actions', name], 'key'), tool, name));
    } else if (!after) {
      changes.push(draft('tool-action-removed', 'lowers', was, `action ${name} removed (was ${describeAction(before)})`, was.source.position(['actions', name], 'key'), tool, name));
    } else {
      const parts: string[] = [];
      if (before.effect !== after.effect) parts.push(`${before.effect} -> ${after.effect}`);
      const dataMoved = describeData(before.data ?? []) !== describeData(after.data ?? []);
      if (dataMoved) parts.push(`data ${describeData(before.data ?? [])} -> ${describeData(after.data ?? [])}`);
      if (parts.length > 0) {
        const risk = combinedRisk([effectOrder(before.effect, after.effect), dataOrder(baseModel, before.data ?? [], headModel, after.data ?? [])]);
        changes.push(draft('tool-action-reclassified', risk, now, `${name} reclassified ${parts.join(', ')}`, now.source.position(['actions', name], 'key'), tool, name));
      }
      for (const key of changedKeys(before, after, ['effect', 'data'])) other.push(`actions.${name}.${key}`);
    }
  }
  if (!sameValue(was.doc.vetting, now.doc.vetting)) {
    const before = vettingStatus(was.doc);
    const after = vettingStatus(now.doc);
    const summary = before === after ? `vetting review changed (still ${after})` : `vetting ${before} -> ${after}`;
    changes.push(draft('tool-vetting-changed', riskOf(VETTING_RANK[after]! - VETTING_RANK[before]!), now, summary, firstKey(now, now.doc.vetting ? ['vetting'] : []), tool));
  }
  const keys = changedKeys(was.doc, now.doc, ['actions', 'vetting']);
  if (keys.length + other.length > 0) {
    const untrustedBefore = was.doc.untrustedContent === true;
    const untrustedAfter = now.doc.untrustedContent === true;
    const fields = [...keys.map((key) =>
      key === 'untrustedContent' && untrustedBefore !== untrustedAfter ? `untrusted content ${untrustedBefore ? 'yes' : 'no'} -> ${untrustedAfter ? 'yes' : 'no'}` : key,
    ), ...other];
    const at = keys.length > 0 ? firstKey(now, keys) : now.source.position(['actions'], 'key');
    changes.push(draft('tool-changed', riskOf(Number(untrustedAfter) - Number(untrustedBefore)), now, `tool changed: ${fields.join(', ')}`, at, tool));
  }
}

// DataClasses, Teams -----------------------------------------------------------------------------

function diffDataClass(was: Located<DataClassDoc> | undefined, now: Located<DataClassDoc> | undefined, changes: DraftChange[]): void {
  if (!was || !now) {
    const located = (now ?? was)!;
    changes.push(draft('dataclass-changed', 'neutral', located, `data class ${now ? 'added' : 'removed'} (${located.doc.sensitivity})`, located.source.position([])));
    return;
  }
  const keys = changedKeys(was.doc, now.doc);
  const parts = keys.map((key) => (key === 'sensitivity' ? `sensitivity ${was.doc.sensitivity} -> ${now.doc.sensitivity}` : key));
  const risk = riskOf(sensitivityRank(now.doc.sensitivity) - sensitivityRank(was.doc.sensitivity));
  changes.push(draft('dataclass-changed', risk, now, `data class changed: ${parts.join(', ')}`, firstKey(now, keys)));
}

function diffTeam(was: Located<TeamDoc> | undefined, now: Located<TeamDoc> | undefined, changes: DraftChange[]): void {
  if (!was || !now) {
    diffPlain('team-changed', 'team', was, now, changes);
    return;
  }
  const keys = changedKeys(was.doc, now.doc);
  const parts = keys.map((key) => {
    if (key !== 'members') return key;
    const before = new Set(was.doc.members);
    const after = new Set(now.doc.members);
    const joined = [...after].filter((member) => !before.has(member)).sort(compareStrings).map((member) => `+${member}`);
    const left = [...before].filter((member) => !after.has(member)).sort(compareStrings).map((member) => `-${member}`);
    return `members ${[...joined, ...left].join(' ')}`;
  });
  changes.push(draft('team-changed', 'neutral', now, `team changed: ${parts.join(', ')}`, firstKey(now, keys)));
}

// Guardrails and approval rules ------------------------------------------------------------------

function rateOrInfinity(limit: RateLimit | undefined): number {
  return limit === undefined ? Number.POSITIVE_INFINITY : perHour(limit);
}

/** Per requirement, > 0 when `after` is stricter (a control tightened). */
function strictness(before: GuardrailRequire, after: GuardrailRequire): number[] {
  const flag = (value: unknown): number => (value === undefined || value === false ? 0 : 1);
  const tighter = (was: number, now: number): number => Math.sign(was - now);
  return [
    flag(after.approval) - flag(before.approval),
    flag(after.forbid) - flag(before.forbid),
    flag(after.justification) - flag(before.justification),
    tighter(rateOrInfinity(before.maxRate), rateOrInfinity(after.maxRate)),
    tighter(before.expiresWithinDays ?? Number.POSITIVE_INFINITY, after.expiresWithinDays ?? Number.POSITIVE_INFINITY),
  ];
}

function describeRequire(require: GuardrailRequire): string {
  const parts: string[] = [];
  if (require.forbid) parts.push('forbids');
  if (require.approval) parts.push('requires approval');
  if (require.maxRate) parts.push(`max ${require.maxRate.max}/${require.maxRate.per}`);
  if (require.expiresWithinDays !== undefined) parts.push(`expiry within ${require.expiresWithinDays} days`);
  if (require.justification) parts.push('requires justification');
  return parts.join(', ');
}

/**
 * A new guardrail is a control added (lowers), a removed one a control
 * gone (raises). A modified one is judged only when its selectors stay the
 * same: requirements and severity all tighter (or equal) lowers, all
 * looser raises; anything else (a new `match`, mixed moves) is neutral,
 * and the agents it affects show their own capability changes.
 */
function diffGuardrail(was: Located<GuardrailDoc> | undefined, now: Located<GuardrailDoc> | undefined, changes: DraftChange[]): void {
  if (!was || !now) {
    const located = (now ?? was)!;
    const what = `${located.doc.severity}; ${describeRequire(located.doc.require)}`;
    changes.push(now
      ? draft('guardrail-changed', 'lowers', now, `guardrail added (${what})`, now.source.position([]))
      : draft('guardrail-changed', 'raises', was!, `guardrail removed (was ${what})`, was!.source.position([])));
    return;
  }
  const keys = changedKeys(was.doc, now.doc);
  let risk: DraftChange['risk'] = 'neutral';
  if (sameValue(was.doc.match, now.doc.match)) {
    const severity = Number(now.doc.severity === 'error') - Number(was.doc.severity === 'error');
    const tightened = combinedRisk([severity, ...strictness(was.doc.require, now.doc.require)]);
    risk = tightened === 'raises' ? 'lowers' : tightened === 'lowers' ? 'raises' : 'neutral';
  }
  const parts = keys.map((key) =>
    key === 'severity' ? `severity ${was.doc.severity} -> ${now.doc.severity}`
      : key === 'require' ? `require ${describeRequire(was.doc.require) || 'nothing'} -> ${describeRequire(now.doc.require) || 'nothing'}`
        : key,
  );
  changes.push(draft('guardrail-changed', risk, now, `guardrail changed: ${parts.join(', ')}`, firstKey(now, keys)));
}

function describeApproval(rule: ApprovalRuleDoc): string {
  return `${rule.require.count} from ${[...rule.require.from].sort(compareStrings).join(', ')}`;
}

/**
 * A new approval rule adds a control (lowers), a removed one drops it
 * (raises); a changed `count` with the same `when` and `from` is judged by
 * the count, any other change is neutral.
 */
function diffApprovalRule(was: Located<ApprovalRuleDoc> | undefined, now: Located<ApprovalRuleDoc> | undefined, changes: DraftChange[]): void {
  if (!was || !now) {
    changes.push(now
      ? draft('approval-rule-changed', 'lowers', now, `approval rule added (${describeApproval(now.doc)})`, now.source.position([]))
      : draft('approval-rule-changed', 'raises', was!, `approval rule removed (was ${describeApproval(was!.doc)})`, was!.source.position([])));
    return;
  }
  const keys = changedKeys(was.doc, now.doc);
  const judged = sameValue(was.doc.when, now.doc.when) && sameValue(was.doc.require.from, now.doc.require.from);
  const risk = judged ? riskOf(was.doc.require.count - now.doc.require.count) : 'neutral';
  const parts = keys.map((key) => (key === 'require' ? `require ${describeApproval(was.doc)} -> ${describeApproval(now.doc)}` : key));
  changes.push(draft('approval-rule-changed', risk, now, `approval rule changed: ${parts.join(', ')}`, firstKey(now, keys)));
}

// Controls and configuration ---------------------------------------------------------------------

function diffApplicability(was: Located<{ decisions: { control: string }[] }> | undefined, now: Located<{ decisions: { control: string }[] }> | undefined, changes: DraftChange[]): void {
  if (!was || !now) {
    diffPlain('controls-changed', 'statement of applicability', was, now, changes);
    return;
  }
  const decisions = (located: Located<{ decisions: { control: string }[] }>): Map<string, string> => {
    const byControl = new Map<string, string[]>();
    for (const decision of located.doc.decisions) byControl.set(decision.control, [...(byControl.get(decision.control) ?? []), canonical(decision)]);
    return new Map([...byControl].map(([control, texts]) => [control, texts.sort(compareStrings).join('\u0000')]));
  };
  const before = decisions(was);
  const after = decisions(now);
  const controls = [...new Set([...before.keys(), ...after.keys()])].filter((control) => before.get(control) !== after.get(control)).sort(compareStrings);
  const keys = changedKeys(was.doc, now.doc, ['decisions']);
  const parts = [...keys, ...(controls.length > 0 ? [`decisions on ${controls.join(', ')}`] : [])];
  changes.push(draft('controls-changed', 'neutral', now, `statement of applicability changed: ${parts.join(', ')}`, firstKey(now, keys.length > 0 ? keys : ['decisions'])));
}

function configValue(config: ResolvedConfig): Record<string, unknown> {
  return {
    roots: config.roots,
    defaultBranch: config.defaultBranch,
    reviewIntervalDays: config.reviewIntervalDays,
    maxFileBytes: config.maxFileBytes,
    rules: Object.fromEntries(config.ruleSeverities),
    admins: config.admins,
    defaultApproval: config.defaultApproval,
  };
}

/** `mandate.yaml` compared by its resolved value (defaults filled in, so writing a default changes nothing). */
function diffConfig(base: ResolvedConfig, head: ResolvedConfig, changes: DraftChange[]): void {
  const keys = changedKeys(configValue(base), configValue(head));
  if (keys.length === 0) return;
  changes.push({ kind: 'config-changed', risk: 'neutral', subject: 'config', summary: `configuration changed: ${keys.join(', ')}`, at: { file: CONFIG_FILE, line: 1, column: 1 } });
}
