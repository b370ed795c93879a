// Entry points of the `mandate diff` renderers (markdown, text, JSON); the
// report itself is built in core/diff-report.ts.
import type { DiffReport } from '../../core/diff-report';

export { diffMarkdown, MARKDOWN_LIMIT } from './diff-markdown';
export { diffText } from './diff-text';

/** The report as JSON (CLI.md). */
export function diffJson(report: DiffReport): string {
  return JSON.stringify(report, null, 2);
}
