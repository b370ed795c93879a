import type { Change, ChangeKind, ChangeRisk } from './change';
import { CHANGE_MAPPING } from './change-controls';
import type { SourcePosition } from './finding';
import { compareStrings } from './finding';

/** A change before its controls are attached: what every comparison in the diff produces. */
export interface DraftChange {
  kind: ChangeKind;
  risk: ChangeRisk;
  subject: string;
  summary: string;
  at: SourcePosition;
  tool?: string;
  action?: string;
}

/** Orders changes by subject, kind, file, line, summary in code-unit order (CLI.md). */
export function compareChanges(a: Change, b: Change): number {
  return (
    compareStrings(a.subject, b.subject) ||
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.file, b.file) ||
    a.line - b.line ||
    compareStrings(a.summary, b.summary)
  );
}

/** Attaches controls and OWASP risks from the mapping table and sorts. */
export function finalizeChanges(drafts: readonly DraftChange[]): Change[] {
  return drafts
    .map((draft) => {
      const mapping = CHANGE_MAPPING[draft.kind];
      const change: Change = {
        kind: draft.kind,
        subject: draft.subject,
        risk: draft.risk,
        summary: draft.summary,
        file: draft.at.file,
        line: draft.at.line,
        controls: [...mapping.controls],
        owasp: [...mapping.owasp],
      };
      if (draft.tool !== undefined) change.tool = draft.tool;
      if (draft.action !== undefined) change.action = draft.action;
      return change;
    })
    .sort(compareChanges);
}

/** `raises` when `order` > 0, `lowers` when < 0, else `neutral`: for a comparison that says "head is more". */
export function riskOf(order: number): ChangeRisk {
  return order > 0 ? 'raises' : order < 0 ? 'lowers' : 'neutral';
}

/**
 * The risk of a change made of several independent comparisons (each > 0
 * when head gives more access): raises when none goes down and one goes
 * up, lowers on the inverse, neutral when they disagree or none moved, so
 * swapping the sides always swaps the verdict.
 */
export function combinedRisk(orders: readonly number[]): ChangeRisk {
  const up = orders.some((order) => order > 0);
  const down = orders.some((order) => order < 0);
  return up && !down ? 'raises' : down && !up ? 'lowers' : 'neutral';
}
