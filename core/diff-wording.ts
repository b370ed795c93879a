// Words and small computations shared by the diff renderers (markdown, text,
// and the verdict headline). Nothing here escapes: callers escape for their
// medium.

import type { ApprovalRequirement } from './approvals';
import { ANYONE } from './approvals';
import type { CapabilityEntry } from './capability';
import { pairKey } from './pair-key';
import { compareStrings } from './finding';
import { redactSecrets } from './secrets';

/** "1 change" / "2 changes" (or the given plural form). */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** `agent:support-triage` -> `support-triage`; `tool:zendesk` -> `tool zendesk`; `config` -> `mandate.yaml`. */
export function shortSubject(subject: string): string {
  if (subject === 'config') return 'mandate.yaml';
  const colon = subject.indexOf(':');
  if (colon < 0) return subject;
  const kind = subject.slice(0, colon);
  const id = subject.slice(colon + 1);
  return kind === 'agent' ? id : `${kind} ${id}`;
}

/** "a", "a and b", "a, b and c", "a, b and 3 more". */
export function listNames(names: readonly string[], max: number): string {
  if (names.length <= max) {
    if (names.length <= 1) return names.join('');
    return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** One `from` entry for a reader: `owner`, `team support`, `team security`, `carol`, `anyone`. */
export function approverWord(approver: string, requirement: Pick<ApprovalRequirement, 'teams'>): string {
  if (approver === 'owner') return 'owner';
  if (approver === 'team') return requirement.teams.length > 0 ? `team ${requirement.teams.join('/')}` : 'team';
  if (approver === ANYONE) return 'anyone';
  if (approver.startsWith('team:')) return `team ${approver.slice('team:'.length)}`;
  if (approver.startsWith('person:')) return approver.slice('person:'.length);
  return approver;
}

/** "owner or team support". */
export function fromPhrase(requirement: Pick<ApprovalRequirement, 'from' | 'teams'>): string {
  const words = requirement.from.map((approver) => approverWord(approver, requirement));
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** "1 approval from owner or team support". */
export function requirementPhrase(requirement: ApprovalRequirement): string {
  return `${plural(requirement.count, 'approval')} from ${fromPhrase(requirement)}`;
}

/** "needs 1 approval from owner or team support and 1 approval from team security (+2 more)". */
export function approvalClause(required: readonly ApprovalRequirement[]): string {
  if (required.length === 0) return '';
  // The hardest first: unmeetable, then most approvals, then organisation rules before the built-in ones.
  const builtIn = (rule: string): number => (rule === 'default' || rule === 'governance' || rule === 'exception' ? 1 : 0);
  const ordered = [...required].sort((a, b) =>
    Number(a.satisfiable) - Number(b.satisfiable) || b.count - a.count || builtIn(a.rule) - builtIn(b.rule));
  const shown = ordered.slice(0, 2).map(requirementPhrase);
  const more = required.length > 2 ? ` (+${required.length - 2} more)` : '';
  const blocked = required.filter((requirement) => !requirement.satisfiable).length;
  const unmet = blocked === 0 ? '' : `; ${blocked === 1 && required.length === 1 ? 'it' : plural(blocked, 'requirement')} cannot be met by anyone eligible`;
  return `needs ${shown.join(' and ')}${more}${unmet}`;
}

/** How the capability entries of one agent moved between two sides. */
export interface EntryChange {
  added: CapabilityEntry[];
  removed: CapabilityEntry[];
  /** Same (tool, action) with another effect, data or gate. */
  changed: { before: CapabilityEntry; after: CapabilityEntry }[];
  unchanged: CapabilityEntry[];
}

/** Compares two capability lists by (tool, action); every list sorted by tool, action. */
export function entryChange(before: readonly CapabilityEntry[], after: readonly CapabilityEntry[]): EntryChange {
  const old = new Map(before.map((entry) => [pairKey(entry.tool, entry.action), entry]));
  const result: EntryChange = { added: [], removed: [], changed: [], unchanged: [] };
  const seen = new Set<string>();
  for (const entry of after) {
    const key = pairKey(entry.tool, entry.action);
    seen.add(key);
    const previous = old.get(key);
    if (!previous) result.added.push(entry);
    else if (sameEntry(previous, entry)) result.unchanged.push(entry);
    else result.changed.push({ before: previous, after: entry });
  }
  for (const [key, entry] of old) if (!seen.has(key)) result.removed.push(entry);
  const order = (a: CapabilityEntry, b: CapabilityEntry): number => compareStrings(a.tool, b.tool) || compareStrings(a.action, b.action);
  result.added.sort(order);
  result.removed.sort(order);
  result.unchanged.sort(order);
  result.changed.sort((a, b) => order(a.after, b.after));
  return result;
}

function sameEntry(a: CapabilityEntry, b: CapabilityEntry): boolean {
  return a.effect === b.effect && a.gated === b.gated && [...a.data].sort().join('\n') === [...b.data].sort().join('\n');
}

/** Unicode bidirectional controls ("Trojan source") and C0/C1 controls other than tab and newline. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text on one line, with control and bidi characters made visible, cut to `max` code units ("…"). */
export function oneLine(text: string, max: number): string {
  let clean = text.replace(/\r\n|\r|\n|\t/g, ' ').replace(UNSAFE_CHARS, '\ufffd');
  if (clean.length > max) {
    let end = max - 1;
    const code = clean.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    clean = `${clean.slice(0, end)}…`;
  }
  return clean;
}

/** Policy text made safe for one line of any output: credentials redacted first (so a cut cannot hide one), then oneLine. */
export function safeLine(text: string, max: number): string {
  return oneLine(redactSecrets(text), max);
}
