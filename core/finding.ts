import type { RuleId } from './rule-catalog';

/** How much a finding counts: errors fail `validate`, warnings only with `--strict`. */
export type Severity = 'error' | 'warning';

/** A place in a governance file, 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** An accepted risk that waives a finding until it expires (FORMAT.md, Exceptions). */
export interface Waiver {
  reason: string;
  approvedBy: string;
  expires: string;
}

/** One problem found in the governance repository, in the shape of CLI.md. */
export interface Finding extends SourcePosition {
  rule: RuleId;
  severity: Severity;
  message: string;
  subject: string;
  controls: string[];
  owasp: string[];
  /** The guardrail a `guardrail` finding names. */
  guardrail?: string;
  waived?: Waiver;
}

/** Orders findings by file, line, column, rule, message in code-unit order (CLI.md). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareStrings(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    compareStrings(a.rule, b.rule) ||
    compareStrings(a.message, b.message)
  );
}

/** Code-unit string comparison, the order every list in the output uses. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
