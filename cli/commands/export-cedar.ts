import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CedarExport } from '../../core/cedar-export';
import { exportCedar } from '../../core/cedar-export';
import { fileSystemTree } from '../../core/fs-tree';
import { redactSecrets } from '../../core/secrets';
import { loadSnapshot } from '../../core/validate';
import type { GlobalOptions } from '../context';
import { currentTime, fileLoader, repositoryRoot, requireFormat } from '../context';
import { UsageError, writeOutput } from '../output';

/** The arguments of `mandate export cedar [--out DIR]`. */
export interface ExportCedarOptions extends GlobalOptions {
  out?: string;
}

/** The files `--out` writes, in this order. */
export const CEDAR_FILES = ['mandate.cedarschema', 'policies.cedar', 'entities.json'] as const;

/**
 * `mandate export cedar`: the policy set on stdout (`--format json`: schema,
 * policies and entities in one document), or the three files in `--out DIR`.
 */
export async function runExportCedar(options: ExportCedarOptions): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json'] as const);
  if (options.out === '') throw new UsageError('--out needs a directory');
  const root = await repositoryRoot(options.repo);
  const snapshot = await loadSnapshot(fileSystemTree(root), { now: currentTime(), loader: fileLoader() });
  const errors = snapshot.findings.filter((finding) => finding.severity === 'error' && !finding.waived).length;
  if (errors > 0) {
    process.stderr.write(`mandate: warning: the repository has ${errors} error finding${errors === 1 ? '' : 's'} (see mandate validate); documents with shape errors are left out of the export\n`);
  }
  const exported = exportCedar(snapshot.model);
  if (options.out === undefined) {
    writeOutput(format === 'json' ? exportJson(exported) : exported.policies);
    return 0;
  }
  const written = await writeExport(options.out, exported);
  writeOutput(format === 'json'
    ? JSON.stringify({ apiVersion: 'mandate/v1', out: options.out, files: written }, null, 2)
    : written.map((file) => `wrote ${file}`).join('\n'));
  return 0;
}

function exportJson(exported: CedarExport): string {
  return JSON.stringify({ apiVersion: 'mandate/v1', schema: exported.schema, policies: exported.policies, entities: exported.entities }, null, 2);
}

/**
 * Writes the three files into `dir` (created when missing), each to a
 * temporary name first and renamed into place, so no file is ever
 * half-written. Output is redacted like every other output (CLI.md).
 */
async function writeExport(out: string, exported: CedarExport): Promise<string[]> {
  const dir = resolve(out);
  const contents: Record<(typeof CEDAR_FILES)[number], string> = {
    'mandate.cedarschema': exported.schema,
    'policies.cedar': exported.policies,
    'entities.json': `${JSON.stringify(exported.entities, null, 2)}\n`,
  };
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${out}: cannot create the directory (${describe(error)})`);
  }
  const written: string[] = [];
  for (const name of CEDAR_FILES) {
    const target = join(dir, name);
    const temporary = join(dir, `.${name}.${process.pid}.tmp`);
    try {
      await writeFile(temporary, redactSecrets(contents[name]));
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw new UsageError(`--out ${out}: cannot write ${name} (${describe(error)})`);
    }
    written.push(join(out, name));
  }
  return written;
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
