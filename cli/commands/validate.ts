import { validateRepository } from '../../core/validate';
import type { GlobalOptions } from '../context';
import { currentTime, fileLoader, repositoryRoot, requireFormat } from '../context';
import { paletteFor, writeOutput } from '../output';
import { findingsMarkdown, findingsText, validationJson } from '../render/findings';
import { junitReport } from '../render/junit';
import { sarifReport } from '../render/sarif';

/** `mandate validate [--strict]`: exit 1 on any error finding. */
export async function runValidate(options: GlobalOptions & { strict: boolean }): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown', 'sarif', 'junit'] as const);
  const root = await repositoryRoot(options.repo);
  const result = await validateRepository(root, { now: currentTime(), strict: options.strict, loader: fileLoader() });
  switch (format) {
    case 'json': writeOutput(validationJson(result)); break;
    case 'markdown': writeOutput(findingsMarkdown(result)); break;
    case 'sarif': writeOutput(sarifReport(result)); break;
    case 'junit': writeOutput(junitReport(result)); break;
    case 'text': writeOutput(findingsText(result, paletteFor(process.stdout))); break;
  }
  return result.ok ? 0 : 1;
}
