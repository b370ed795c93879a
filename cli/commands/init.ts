import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import packageJson from '../../package.json';
import { dayOfInstant, formatDay } from '../../core/dates';
import { compareStrings } from '../../core/finding';
import type { ScaffoldFile } from '../../core/scaffold';
import { scaffoldFiles } from '../../core/scaffold';
import type { GlobalOptions } from '../context';
import { currentTime, requireFormat } from '../context';
import { UsageError, writeOutput } from '../output';
import { codeSpan } from '../render/markdown-escape';

/**
 * `mandate init [DIR]`: scaffolds a governance repository in DIR (created
 * when missing). Checks every path first; if any file it would write
 * exists (or a directory on its way is not a plain directory), it writes
 * nothing and exits 2 naming them (CLI.md).
 */
export async function runInit(options: GlobalOptions & { dir: string }): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown'] as const);
  const root = resolve(options.dir);
  const rootStats = await lstat(root).catch(() => undefined);
  if (rootStats && !rootStats.isDirectory()) throw new UsageError(`${options.dir} exists and is not a directory`);

  const files = scaffoldFiles({
    today: formatDay(dayOfInstant(currentTime())),
    version: packageJson.version,
    ...(await packageAssets()),
  });
  const conflicts = await existingPaths(root, files);
  if (conflicts.length > 0) {
    throw new UsageError(`nothing written; these already exist in ${options.dir}: ${conflicts.join(', ')}`);
  }
  for (const file of files) {
    const target = join(root, file.path);
    try {
      await mkdir(dirname(target), { recursive: true });
      // 'wx' fails rather than overwrite a file created since the check.
      await writeFile(target, file.content, { flag: 'wx' });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UsageError(`cannot write ${join(options.dir, file.path)}: ${reason}`);
    }
  }

  const created = files.map((file) => file.path);
  const next = `mandate validate --repo ${shellQuote(options.dir)}`;
  if (format === 'json') {
    writeOutput(JSON.stringify({ apiVersion: 'mandate/v1', dir: options.dir, created }, null, 2));
  } else if (format === 'markdown') {
    writeOutput([`Created ${created.length} files in ${codeSpan(options.dir)}:`, '', ...created.map((path) => `- ${codeSpan(path)}`), '', `Next: ${codeSpan(next)}`].join('\n'));
  } else {
    writeOutput(`created ${created.length} files in ${options.dir}; next: ${next}`);
  }
  return 0;
}

/**
 * The files of the scaffold that would collide: existing paths (symlinks
 * included, never followed), and directories on the way that exist as
 * something other than a directory.
 */
async function existingPaths(root: string, files: readonly ScaffoldFile[]): Promise<string[]> {
  const conflicts = new Set<string>();
  const checkedDirectories = new Map<string, boolean>();
  for (const file of files) {
    const segments = file.path.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      const directory = segments.slice(0, depth).join('/');
      let ok = checkedDirectories.get(directory);
      if (ok === undefined) {
        const stats = await lstat(join(root, directory)).catch(() => undefined);
        ok = !stats || stats.isDirectory();
        checkedDirectories.set(directory, ok);
      }
      if (!ok) conflicts.add(directory);
    }
    if (await lstat(join(root, file.path)).catch(() => undefined)) conflicts.add(file.path);
  }
  return [...conflicts].sort(compareStrings);
}

/** The Annex A catalog and JSON Schemas as this package ships them (package.json "files"). */
async function packageAssets(): Promise<{ annexCatalog: string; schemas: { name: string; content: string }[] }> {
  const root = packageRoot();
  const annexCatalog = await readFile(join(root, 'controls', 'iso42001-annex-a.yaml'), 'utf8');
  const names = (await readdir(join(root, 'schema'))).filter((name) => name.endsWith('.json')).sort(compareStrings);
  const schemas = await Promise.all(names.map(async (name) => ({ name, content: await readFile(join(root, 'schema', name), 'utf8') })));
  return { annexCatalog, schemas };
}

/**
 * The installed package's root: the bundled CLI runs from `dist/cli.js`,
 * the sources (tests) from `cli/commands/init.ts`, so walk up to the
 * directory holding both `schema/` and `controls/`.
 */
function packageRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level += 1) {
    if (existsSync(join(directory, 'schema', 'agent.schema.json')) && existsSync(join(directory, 'controls', 'iso42001-annex-a.yaml'))) {
      return directory;
    }
    directory = dirname(directory);
  }
  throw new Error('cannot find the schema/ and controls/ directories this package ships');
}

/** The directory as the user can paste it back into a POSIX shell. */
function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
