import { requiredApprovals } from '../../core/approvals';
import { GitError } from '../../core/git';
import { loadRevisions } from '../../core/revisions';
import { semanticDiff } from '../../core/semantic-diff';
import type { GlobalOptions } from '../context';
import { currentTime, fileLoader, repositoryRoot, requireFormat } from '../context';
import { paletteFor, UsageError, writeOutput } from '../output';
import { buildDiffReport } from '../../core/diff-report';
import { diffJson, diffMarkdown, diffText } from '../render/diff-summary';

/** Options of `mandate diff`. */
export interface DiffOptions extends GlobalOptions {
  base?: string;
  head?: string;
  author?: string;
}

/** `mandate diff`: the semantic change from the merge base to head; exit 1 when head introduces an error finding. */
export async function runDiff(options: DiffOptions): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown'] as const);
  const root = await repositoryRoot(options.repo);
  const revisions = await loadRevisions(root, { base: options.base, head: options.head, now: currentTime(), loader: fileLoader() }).catch((error: unknown) => {
    throw error instanceof GitError ? new UsageError(error.message) : error;
  });
  const diff = semanticDiff(revisions.mergeBase.snapshot, revisions.head.snapshot);
  const required = requiredApprovals(diff.changes, revisions.base.snapshot, revisions.head.snapshot, { author: options.author });
  const report = buildDiffReport({
    base: revisions.base.sha,
    mergeBase: revisions.mergeBase.sha,
    head: revisions.head.sha,
    diff,
    required,
  });
  if (format === 'json') writeOutput(diffJson(report));
  else if (format === 'markdown') writeOutput(diffMarkdown(report));
  else writeOutput(diffText(report, paletteFor(process.stdout)));
  const introducesError = diff.findings.introduced.some((finding) => finding.severity === 'error' && !finding.waived);
  return introducesError ? 1 : 0;
}
