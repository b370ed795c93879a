import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseNow } from '../core/dates';
import type { FileLoader } from '../core/validate';
import { UsageError } from './output';
import { ParsePool } from './parse-pool';

/** The options every command takes (CLI.md). */
export interface GlobalOptions {
  repo: string;
  format: string;
}

/** The absolute repository directory from --repo, or a UsageError when it is not a readable directory. */
export async function repositoryRoot(repo: string): Promise<string> {
  const root = resolve(repo);
  const stats = await stat(root).catch(() => undefined);
  if (!stats) throw new UsageError(`--repo ${repo}: no such directory`);
  if (!stats.isDirectory()) throw new UsageError(`--repo ${repo}: not a directory`);
  return root;
}

/** "Now" from MANDATE_NOW when set (FORMAT.md, Now), else the clock. */
export function currentTime(): Date {
  const configured = process.env.MANDATE_NOW;
  if (configured === undefined || configured === '') return new Date();
  const now = parseNow(configured);
  if (!now) throw new UsageError(`MANDATE_NOW='${configured}' is not an ISO date or date-time`);
  return now;
}

/** Rejects a --format value the command does not support. */
export function requireFormat<F extends string>(format: string, supported: readonly F[]): F {
  if ((supported as readonly string[]).includes(format)) return format as F;
  throw new UsageError(`--format ${format} is not supported here; use one of ${supported.join(', ')}`);
}

let pool: ParsePool | undefined;

/** The loader every command loads repositories with: one parse pool per process, next to the built CLI. */
export function fileLoader(): FileLoader {
  pool ??= new ParsePool(new URL('./parse-worker.js', import.meta.url));
  return pool.load;
}
