/**
 * Least privilege from recorded calls (`mandate simulate --calls FILE
 * [--suggest]`, CLI.md): which head grants the calls used, what the head
 * grants that no call used, and a patch narrowing the agent files to what was
 * used.
 *
 * A call uses a grant when the head decides it `allow` or `approval` and the
 * grant covers it: same agent, tool and action, live on the call's day, and
 * matching its resource (a call without a resource matches only grants that
 * cover every resource). Every covering grant counts, not only the deciding
 * one, so narrowing never changes a replayed decision (nor its rate limit).
 * A call without a resource that could not be evaluated ("no resource")
 * marks its action and every pattern of the grants reaching it as used: it
 * may have meant any of them.
 *
 * The suggestion touches only agents that are active at head and made at
 * least one call (an agent absent from the log says more about the log than
 * about the agent; `unused` still lists its grants), and leaves grants that
 * have already expired alone (the `grant-expired` rule reports them).
 */
import { formatPatch, structuredPatch } from 'diff';
import type { StructuredPatch } from 'diff';
import { isMap, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode, YAMLMap, YAMLSeq } from 'yaml';
import type { DayNumber } from './dates';
import type { AgentDoc } from './documents';
import { compareStrings } from './finding';
import { compileResourcePattern, expandActionPattern, isActionGlob } from './globs';
import type { ResourceMatcher } from './globs';
import type { Grant, Model } from './model';
import { pairKey } from './pair-key';

interface GrantUse {
  grant: Grant;
  /** One matcher per resource pattern (empty when the grant has no `resources`). */
  patterns: ResourceMatcher[];
  /** Index of `**` among the patterns, or -1. */
  everything: number;
  /** Aligned with the grant's `actions` (a Set per grant cost 3 MB at 20,000 grants). */
  usedActions: boolean[];
  usedPatterns: boolean[];
}

/** Marks one of the grant's actions used. */
function markAction(use: GrantUse, action: string): void {
  const at = use.grant.actions.indexOf(action);
  if (at >= 0) use.usedActions[at] = true;
}

/** The grant's actions some call used. */
function usedActionNames(use: GrantUse): Set<string> {
  return new Set(use.grant.actions.filter((_, at) => use.usedActions[at]));
}

/** What the head grants one agent on one tool that no call used. */
export interface UnusedGrant {
  agent: string;
  tool: string;
  /** Granted actions no call used. */
  actions: string[];
  /** Resource patterns no call matched. */
  resources: string[];
}

/** Per original `actions` entry: keep it, or replace it by these names (none: drop it). */
export type ActionEntryEdit = { keep: true } | { replace: string[] };

/** How one permission of an agent file changes. */
export interface PermissionEdit {
  /** Index in the agent's `permissions`. */
  index: number;
  /** Remove the whole permission. */
  remove?: true;
  /** Aligned with the permission's `actions` entries; absent: unchanged. */
  actions?: ActionEntryEdit[];
  /** Aligned with the permission's `resources`, which patterns stay; absent: unchanged. */
  resources?: boolean[];
}

/** A permission the suggestion removes as a whole. */
export interface RemovedPermission {
  agent: string;
  tool: string;
  actions: string[];
  resources?: string[];
  file: string;
  line: number;
  reason: string;
}

/** The edits to one agent document. */
export interface AgentNarrowing {
  agent: string;
  file: string;
  /** 0-based index of the document in its file. */
  document: number;
  edits: PermissionEdit[];
}

/** The grants reaching one (agent, tool, action); saturated once a call can mark nothing new. */
export interface UseSlot {
  action: string;
  uses: GrantUse[];
  saturated: boolean;
}

/** Marks, for every call the head allows or gates, the grants it used. */
export class UsageTracker {
  private readonly byAgent = new Map<string, Map<string, UseSlot>>();
  /** Per agent, aligned with its grants in the model. */
  private readonly uses = new Map<string, GrantUse[]>();
  /** Agent ids (at head) that made at least one evaluable call. */
  readonly callers = new Set<string>();

  constructor(readonly model: Model) {
    const compiled = new Map<string, ResourceMatcher>();
    for (const [agent, grants] of model.grants) {
      const slots = new Map<string, UseSlot>();
      const uses: GrantUse[] = [];
      for (const grant of grants) {
        const patterns = (grant.resources ?? []).map((pattern) => {
          let regexp = compiled.get(pattern);
          if (!regexp) compiled.set(pattern, (regexp = compileResourcePattern(pattern)));
          return regexp;
        });
        const use: GrantUse = {
          grant, patterns, everything: (grant.resources ?? []).indexOf('**'),
          usedActions: grant.actions.map(() => false), usedPatterns: patterns.map(() => false),
        };
        uses.push(use);
        for (const action of grant.actions) {
          const key = pairKey(grant.tool, action);
          const slot = slots.get(key);
          if (slot) slot.uses.push(use);
          else slots.set(key, { action, uses: [use], saturated: false });
        }
      }
      // Exact-size copies: the pushed-to lists carry spare capacity.
      for (const slot of slots.values()) slot.uses = slot.uses.slice();
      this.byAgent.set(agent, slots);
      this.uses.set(agent, uses);
    }
  }

  /** The head grants reaching (agent id, tool, action), or undefined when none does. */
  slot(agent: string, tool: string, action: string): UseSlot | undefined {
    return this.byAgent.get(agent)?.get(pairKey(tool, action));
  }

  /** A call the head allows or gates on `day`: marks the live grants of its slot that cover it. */
  markUsed(slot: UseSlot, resource: string | undefined, day: DayNumber): void {
    if (slot.saturated) return;
    for (const use of slot.uses) {
      const { grant } = use;
      if (grant.expires !== undefined && grant.expires < day) continue;
      let covered = grant.resources === undefined;
      if (resource === undefined) {
        if (use.everything >= 0) {
          use.usedPatterns[use.everything] = true;
          covered = true;
        }
      } else {
        for (let index = 0; index < use.patterns.length; index++) {
          if (use.patterns[index]!.test(resource)) {
            use.usedPatterns[index] = true;
            covered = true;
          }
        }
      }
      if (covered) markAction(use, slot.action);
    }
    slot.saturated = isSaturated(slot);
  }

  /** A call without a resource that could not be evaluated: it may have meant any pattern of the slot's grants. */
  markUnscoped(slot: UseSlot): void {
    for (const use of slot.uses) {
      markAction(use, slot.action);
      use.usedPatterns.fill(true);
    }
    slot.saturated = isSaturated(slot);
  }

  /** Live grants of active agents, grouped per agent and tool, in id order. */
  private *liveGrantsByTool(today: DayNumber): Generator<{ agent: string; tool: string; uses: GrantUse[] }> {
    const agents = [...this.model.agents.values()]
      .filter(({ doc }) => doc.status === 'active')
      .map(({ doc }) => doc.id)
      .sort(compareStrings);
    for (const agent of agents) {
      const byTool = new Map<string, GrantUse[]>();
      const uses = this.uses.get(agent) ?? [];
      for (const [at, grant] of (this.model.grants.get(agent) ?? []).entries()) {
        if (grant.expires !== undefined && grant.expires < today) continue;
        const list = byTool.get(grant.tool);
        const use = uses[at]!;
        if (list) list.push(use);
        else byTool.set(grant.tool, [use]);
      }
      for (const tool of [...byTool.keys()].sort(compareStrings)) yield { agent, tool, uses: byTool.get(tool)! };
    }
  }

  /** What the head grants (active agents, grants live today) that no call used, per agent and tool. */
  unused(today: DayNumber): UnusedGrant[] {
    const out: UnusedGrant[] = [];
    for (const { agent, tool, uses } of this.liveGrantsByTool(today)) {
      const granted = new Set<string>();
      const usedActions = new Set<string>();
      const patterns = new Set<string>();
      const matched = new Set<string>();
      for (const use of uses) {
        for (const action of use.grant.actions) granted.add(action);
        for (const action of usedActionNames(use)) usedActions.add(action);
        use.grant.resources?.forEach((pattern, index) => {
          patterns.add(pattern);
          if (use.usedPatterns[index]) matched.add(pattern);
        });
      }
      const actions = [...granted].filter((action) => !usedActions.has(action)).sort(compareStrings);
      const resources = [...patterns].filter((pattern) => !matched.has(pattern)).sort(compareStrings);
      if (actions.length > 0 || resources.length > 0) out.push({ agent, tool, actions, resources });
    }
    return out;
  }

  /** The edits narrowing each calling, active agent to what its calls used (see the module comment). */
  narrowing(today: DayNumber): { agents: AgentNarrowing[]; removed: RemovedPermission[] } {
    const agents: AgentNarrowing[] = [];
    const removed: RemovedPermission[] = [];
    for (const agentId of [...this.callers].sort(compareStrings)) {
      const located = this.model.agents.get(agentId);
      if (!located || located.doc.status !== 'active') continue;
      const edits: PermissionEdit[] = [];
      const uses = this.uses.get(agentId) ?? [];
      for (const [at, grant] of (this.model.grants.get(agentId) ?? []).entries()) {
        if (grant.expires !== undefined && grant.expires < today) continue;
        const use = uses[at]!;
        const permission = located.doc.permissions[grant.index]!;
        const drop = (reason: string): void => {
          edits.push({ index: grant.index, remove: true });
          removed.push({
            agent: agentId, tool: grant.tool, actions: [...permission.actions],
            ...(permission.resources ? { resources: [...permission.resources] } : {}),
            file: grant.position.file, line: grant.position.line, reason,
          });
        };
        if (!use.usedActions.includes(true)) {
          drop('no call used it');
          continue;
        }
        const edit: PermissionEdit = { index: grant.index };
        const actions = this.actionEdits(permission, grant.tool, usedActionNames(use));
        if (actions) edit.actions = actions;
        if (permission.resources && use.usedPatterns.some((used) => !used)) {
          if (!use.usedPatterns.some(Boolean)) {
            drop('no call matched its resources');
            continue;
          }
          edit.resources = [...use.usedPatterns];
        }
        if (edit.actions || edit.resources) edits.push(edit);
      }
      if (edits.length > 0) {
        agents.push({ agent: agentId, file: located.source.file, document: located.source.index, edits: edits.sort((a, b) => a.index - b.index) });
      }
    }
    return { agents, removed };
  }

  /**
   * Per `actions` entry: a name stays when used; a glob stays when every
   * action it reaches was used, else it is replaced by the used ones (names
   * another entry already keeps are not repeated). Undefined: no change.
   */
  private actionEdits(permission: AgentDoc['permissions'][number], tool: string, used: Set<string>): ActionEntryEdit[] | undefined {
    const declared = Object.keys(this.model.tools.get(tool)?.doc.actions ?? {});
    const kept = new Set<string>();
    const edits: ActionEntryEdit[] = permission.actions.map((entry) => {
      if (!isActionGlob(entry)) {
        if (!used.has(entry)) return { replace: [] };
        kept.add(entry);
        return { keep: true };
      }
      const reached = expandActionPattern(entry, declared);
      if (reached.every((action) => used.has(action))) {
        for (const action of reached) kept.add(action);
        return { keep: true };
      }
      return { replace: reached.filter((action) => used.has(action)) };
    });
    let changed = false;
    for (const edit of edits) {
      if ('keep' in edit) continue;
      changed = true;
      edit.replace = edit.replace.filter((action) => !kept.has(action) && (kept.add(action), true));
    }
    return changed ? edits : undefined;
  }
}

/** Whether every grant of the slot has its action and every pattern marked (a grant is shared by its actions' slots). */
function isSaturated(slot: UseSlot): boolean {
  return slot.uses.every((use) => use.usedActions[use.grant.actions.indexOf(slot.action)] === true && use.usedPatterns.every(Boolean));
}

// ---------------------------------------------------------------------------
// Editing agent files

interface Splice {
  start: number;
  end: number;
  text: string;
}

/** Thrown when an agent file cannot be edited as planned (its YAML changed shape under us). */
export class NarrowingError extends Error {
  override name = 'NarrowingError';
}

const PLAIN_SCALAR = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;

/** A name as a YAML scalar, quoted the way the entry it replaces was (plain when that is safe). */
function renderScalar(value: string, like = ''): string {
  if (like.startsWith('"')) return JSON.stringify(value);
  if (like.startsWith("'")) return `'${value.replace(/'/g, "''")}'`;
  return PLAIN_SCALAR.test(value) && !/^(?:true|false|null|~|[-+]?\d)/i.test(value) ? value : JSON.stringify(value);
}

/**
 * Applies permission edits to one document of an agent file's text. Edits are
 * spliced into the original text at the nodes the `yaml` Document API finds,
 * so every other byte (comments, quoting, layout) stays as it was; the result
 * is re-parsed and must equal the intended value. A single-document file
 * whose layout the splicer cannot handle falls back to the Document API's
 * own `toString()`.
 */
export function editAgentText(text: string, documentIndex: number, edits: readonly PermissionEdit[]): string {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new NarrowingError('not a YAML stream');
  const document = documents[documentIndex];
  if (!document || document.errors.length > 0) throw new NarrowingError(`document ${documentIndex + 1} does not parse`);
  const expected = expectedValue(document.toJS() as unknown, edits);
  let edited: string | undefined;
  try {
    edited = applySplices(text, spliceEdits(text, document, edits));
  } catch (error) {
    if (!(error instanceof NarrowingError)) throw error;
  }
  if (edited !== undefined && sameValue(edited, documentIndex, expected)) return edited;
  if (documents.length === 1) {
    const fallback = documentApiEdit(document, edits);
    if (sameValue(fallback, 0, expected)) return fallback;
  }
  throw new NarrowingError(`cannot edit the permissions of document ${documentIndex + 1} without changing anything else`);
}

function sameValue(text: string, documentIndex: number, expected: unknown): boolean {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return false;
  const document = documents[documentIndex];
  return document !== undefined && document.errors.length === 0 && JSON.stringify(document.toJS()) === JSON.stringify(expected);
}

/** The plain value a document should have after the edits. */
function expectedValue(value: unknown, edits: readonly PermissionEdit[]): unknown {
  const root = value as { permissions?: Array<Record<string, unknown>> };
  if (!Array.isArray(root.permissions)) throw new NarrowingError('the document has no permissions list');
  const byIndex = new Map(edits.map((edit) => [edit.index, edit]));
  const permissions: Array<Record<string, unknown>> = [];
  root.permissions.forEach((permission, index) => {
    const edit = byIndex.get(index);
    if (!edit) return permissions.push(permission);
    if (edit.remove) return;
    const next = { ...permission };
    if (edit.actions) {
      const actions = permission.actions as string[];
      next.actions = actions.flatMap((action, position) => {
        const entry = edit.actions![position]!;
        return 'keep' in entry ? [action] : entry.replace;
      });
    }
    if (edit.resources) next.resources = (permission.resources as string[]).filter((_, position) => edit.resources![position]);
    permissions.push(next);
  });
  return { ...root, permissions };
}

function lineStart(text: string, position: number): number {
  return text.lastIndexOf('\n', position - 1) + 1;
}

/** The offset just past the newline ending the line that holds `position` (or the end of the text). */
function lineEnd(text: string, position: number): number {
  const newline = text.indexOf('\n', position);
  return newline === -1 ? text.length : newline + 1;
}

function rangeOf(node: YamlNode | null | undefined): [number, number] {
  const range = node?.range;
  if (!range) throw new NarrowingError('a node without a source range');
  return [range[0], range[1]];
}

/** The `-` of a block sequence item: the last non-blank character before the item. */
function dashOf(text: string, itemStart: number): number {
  let position = itemStart - 1;
  while (position >= 0 && (text[position] === ' ' || text[position] === '\t')) position--;
  if (text[position] !== '-') throw new NarrowingError('a block sequence item without its dash on the same line');
  return position;
}

/** Whole lines of a block sequence item, from its dash to the end of its last line. */
function itemLines(text: string, item: YamlNode): [number, number] {
  const [start, end] = rangeOf(item);
  return [lineStart(text, dashOf(text, start)), lineEnd(text, Math.max(start, end - 1))];
}

function spliceEdits(text: string, document: Document, edits: readonly PermissionEdit[]): Splice[] {
  const contents = document.contents;
  if (!isMap(contents)) throw new NarrowingError('the document is not a map');
  const pair = (contents as YAMLMap).items.find((item) => (item.key as { value?: unknown } | null)?.value === 'permissions');
  const permissions = pair?.value;
  if (!pair || !isSeq(permissions)) throw new NarrowingError('no permissions sequence');
  const seq = permissions as YAMLSeq;
  const splices: Splice[] = [];
  const removed = new Set(edits.filter((edit) => edit.remove).map((edit) => edit.index));
  if (removed.size > 0 && removed.size === seq.items.length) {
    // Nothing left: `permissions: []` (the key is required).
    if (seq.flow) {
      const [start, end] = rangeOf(seq);
      splices.push({ start, end, text: '[]' });
    } else {
      const [, keyEnd] = rangeOf(pair.key as YamlNode);
      const [, seqEnd] = rangeOf(seq);
      const end = lineEnd(text, Math.max(keyEnd, seqEnd - 1));
      splices.push({ start: keyEnd, end, text: `: []${end === text.length && !text.endsWith('\n') ? '' : '\n'}` });
    }
    return splices;
  }
  if (seq.flow && removed.size > 0) {
    const kept = seq.items.filter((_, index) => !removed.has(index)).map((item) => {
      const [start, end] = rangeOf(item as YamlNode);
      return text.slice(start, end);
    });
    const [start, end] = rangeOf(seq);
    splices.push({ start, end, text: `[${kept.join(', ')}]` });
  }
  for (const edit of edits) {
    const item = seq.items[edit.index] as YamlNode | undefined;
    if (!item) throw new NarrowingError(`no permission ${edit.index}`);
    if (edit.remove) {
      if (!seq.flow) {
        const [start, end] = itemLines(text, item);
        splices.push({ start, end, text: '' });
      }
      continue;
    }
    if (!isMap(item)) throw new NarrowingError(`permission ${edit.index} is not a map`);
    if (edit.actions) splices.push(...sequenceSplices(text, (item as YAMLMap).get('actions', true) as YamlNode, edit.actions));
    if (edit.resources) {
      const keep = edit.resources.map((kept): ActionEntryEdit => (kept ? { keep: true } : { replace: [] }));
      splices.push(...sequenceSplices(text, (item as YAMLMap).get('resources', true) as YamlNode, keep));
    }
  }
  return splices;
}

/** Splices keeping, dropping or replacing the items of a sequence of scalars. */
function sequenceSplices(text: string, node: YamlNode | undefined, entries: readonly ActionEntryEdit[]): Splice[] {
  if (!node || !isSeq(node)) throw new NarrowingError('expected a sequence');
  const seq = node as YAMLSeq;
  if (seq.items.length !== entries.length) throw new NarrowingError('the sequence does not have the expected items');
  const source = (item: unknown): string => {
    const [start, end] = rangeOf(item as YamlNode);
    return text.slice(start, end);
  };
  if (seq.flow) {
    const items = seq.items.flatMap((item, index) => {
      const entry = entries[index]!;
      return 'keep' in entry ? [source(item)] : entry.replace.map((name) => renderScalar(name, source(item)));
    });
    const [start, end] = rangeOf(seq);
    return [{ start, end, text: `[${items.join(', ')}]` }];
  }
  const splices: Splice[] = [];
  seq.items.forEach((item, index) => {
    const entry = entries[index]!;
    if ('keep' in entry) return;
    const [first, ...more] = entry.replace;
    const [lineFrom, lineTo] = itemLines(text, item as YamlNode);
    if (first === undefined) {
      splices.push({ start: lineFrom, end: lineTo, text: '' });
      return;
    }
    const [start, end] = rangeOf(item as YamlNode);
    const indent = text.slice(lineFrom, dashOf(text, start));
    const like = source(item);
    splices.push({ start, end, text: renderScalar(first, like) });
    if (more.length > 0) {
      const lead = lineTo === text.length && !text.endsWith('\n') ? '\n' : '';
      splices.push({ start: lineTo, end: lineTo, text: lead + more.map((name) => `${indent}- ${renderScalar(name, like)}\n`).join('') });
    }
  });
  return splices;
}

function applySplices(text: string, splices: Splice[]): string {
  const ordered = [...splices].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const splice of ordered) {
    if (splice.end > limit) throw new NarrowingError('overlapping edits');
    out = out.slice(0, splice.start) + splice.text + out.slice(splice.end);
    limit = splice.start;
  }
  return out;
}

/** The same edits through the Document API (reformats the document; a last resort). */
function documentApiEdit(document: Document, edits: readonly PermissionEdit[]): string {
  const seq = document.get('permissions', true) as YAMLSeq;
  for (const edit of [...edits].sort((a, b) => b.index - a.index)) {
    if (edit.remove) {
      seq.items.splice(edit.index, 1);
      continue;
    }
    const item = seq.items[edit.index] as YAMLMap;
    if (edit.actions) {
      const actions = item.get('actions', true) as unknown as YAMLSeq;
      const next = actions.items.flatMap((node, position) => {
        const entry = edit.actions![position]!;
        return 'keep' in entry ? [node] : entry.replace.map((name) => document.createNode(name));
      });
      actions.items = next;
    }
    if (edit.resources) {
      const resources = item.get('resources', true) as unknown as YAMLSeq;
      resources.items = resources.items.filter((_, position) => edit.resources![position]);
    }
  }
  if (seq.items.length === 0) seq.flow = true;
  return document.toString();
}

// ---------------------------------------------------------------------------
// The patch

/** A file of the head and its narrowed text. */
export interface EditedFile {
  /** Path relative to the repository root (the `--repo` directory). */
  file: string;
  before: string;
  after: string;
}

/**
 * Applies the narrowing to the agent files `read` returns (by repository
 * path), one file at a time.
 */
export async function narrowFiles(agents: readonly AgentNarrowing[], read: (file: string) => Promise<string>): Promise<EditedFile[]> {
  const byFile = new Map<string, AgentNarrowing[]>();
  for (const agent of agents) {
    const list = byFile.get(agent.file);
    if (list) list.push(agent);
    else byFile.set(agent.file, [agent]);
  }
  const out: EditedFile[] = [];
  for (const file of [...byFile.keys()].sort(compareStrings)) {
    const before = await read(file);
    let after = before;
    // One document at a time, last first, so earlier documents' offsets hold.
    for (const agent of byFile.get(file)!.sort((a, b) => b.document - a.document)) {
      try {
        after = editAgentText(after, agent.document, agent.edits);
      } catch (error) {
        if (error instanceof NarrowingError) throw new NarrowingError(`${file}: ${error.message}`);
        throw error;
      }
    }
    if (after !== before) out.push({ file, before, after });
  }
  return out;
}

/**
 * A unified diff in git's format (`diff --git a/P b/P`, three lines of
 * context) that `git apply` accepts. `prefix` is the repository directory
 * relative to the top of the git work tree ('' at the top), so paths are
 * relative to the git repository.
 */
export function unifiedPatch(files: readonly EditedFile[], prefix = ''): string {
  return files
    .map(({ file, before, after }) => {
      const path = prefix === '' ? file : `${prefix}/${file}`;
      const patch: StructuredPatch = { ...structuredPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, { context: 3 }), isGit: true };
      return formatPatch(patch);
    })
    .join('');
}
