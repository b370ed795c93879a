import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { plural, safeLine } from '../../core/diff-wording';
import type { UnusedGrant } from '../../core/least-privilege';
import type { CallSimulation, ChangeKind, ExhaustiveSimulation, SimulationSummary } from '../../core/simulate';
import { DEFAULT_CHANGED_LIMIT } from '../../core/simulate';
import type { GlobalOptions } from '../context';
import { currentTime, repositoryRoot, requireFormat } from '../context';
import type { Palette } from '../output';
import { paletteFor, UsageError, writeOutput } from '../output';
import { progressBar } from '../progress';
import { codeSpan, escapeMarkdown } from '../render/markdown-escape';
import type { SimulateJob, SimulateReport } from '../simulate-job';
import { runSimulateJob } from '../simulate-job';

/** The arguments of `mandate simulate`. */
export interface SimulateOptions extends GlobalOptions {
  calls?: string;
  base?: string;
  head?: string;
  limit?: string | number;
  strict?: boolean;
  suggest?: boolean;
  out?: string;
}

/**
 * `mandate simulate [--calls FILE] [--base REF] [--head REF] [--limit N]
 * [--strict] [--suggest [--out FILE]]`: exit 0 when done (changes or not);
 * 2 for a missing or unreadable calls file, a bad ref, not a git
 * repository, a bad --limit, or (--strict) a malformed line.
 */
export async function runSimulate(options: SimulateOptions): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown'] as const);
  const limit = parseLimit(options.limit);
  for (const name of ['calls', 'base', 'head', 'out'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'string') throw new UsageError(`--${name} may be given once`);
  }
  if (options.out !== undefined && !options.suggest) throw new UsageError('--out needs --suggest');
  if (options.suggest && options.calls === undefined) throw new UsageError('--suggest needs --calls FILE: it narrows the head to what the calls used');
  const root = await repositoryRoot(options.repo);
  const calls = options.calls === undefined ? undefined : await callsFile(options.calls);
  const job: SimulateJob = {
    root, now: currentTime().getTime(), limit, strict: options.strict === true, suggest: options.suggest === true,
    ...(options.base === undefined ? {} : { base: options.base }),
    ...(options.head === undefined ? {} : { head: options.head }),
    ...(options.out === undefined ? {} : { out: options.out }),
    ...(calls === undefined ? {} : { calls: { path: calls.path, given: options.calls!, regularFile: calls.regularFile, size: calls.size } }),
  };
  const progress = progressBar('simulate', calls?.size ?? 0);
  const report = await runSimulateJob(job, {
    onProgress: ({ bytesRead, lines }) => progress.update(bytesRead, `${lines.toLocaleString('en-US')} lines`),
    onWarning: (line) => {
      progress.finish();
      process.stderr.write(line);
    },
  }).finally(() => progress.finish());
  switch (format) {
    case 'json': writeOutput(simulateJson(report)); break;
    case 'markdown': writeOutput(simulateMarkdown(report)); break;
    case 'text': writeOutput(simulateText(report, paletteFor(process.stdout))); break;
  }
  return 0;
}

/** `--limit N`: a whole number, 0 or more. */
function parseLimit(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_CHANGED_LIMIT;
  if (Array.isArray(value)) throw new UsageError('--limit may be given once');
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--limit ${String(value)}: not a whole number (0 or more)`);
  return Number(text);
}

/** The calls file, resolved from the working directory; a usage error when it is missing or not a readable file. */
async function callsFile(path: string): Promise<{ path: string; size: number; regularFile: boolean }> {
  const full = resolve(path);
  const stats = await stat(full).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--calls ${path}: ${error.code === 'ENOENT' ? 'no such file' : `cannot read (${error.code ?? error.message})`}`);
  });
  // A pipe is fine too (`--calls /dev/stdin`): it streams like a file, without a progress bar.
  if (!stats.isFile() && !stats.isFIFO()) throw new UsageError(`--calls ${path}: not a file`);
  // Opening it now turns an unreadable file into exit 2 before the repository is loaded.
  const handle = await open(full, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--calls ${path}: cannot read (${error.code ?? error.message})`);
  });
  await handle.close();
  // /dev/stdin and /dev/fd/N redirected from a file stat as regular files, but may share the shell's offset: read them once.
  return { path: full, size: stats.size, regularFile: stats.isFile() && !full.startsWith('/dev/') };
}

// ---------------------------------------------------------------------------
// Rendering

const SUMMARY_ROWS: ReadonlyArray<[keyof SimulationSummary, string]> = [
  ['unchanged', 'unchanged'],
  ['gained', 'gained'],
  ['revoked', 'revoked'],
  ['nowNeedsApproval', 'now needs approval'],
  ['noLongerNeedsApproval', 'no longer needs approval'],
  ['unevaluable', 'unevaluable'],
];

const CHANGE_LABEL: Readonly<Record<ChangeKind, string>> = {
  gained: 'gained',
  revoked: 'revoked',
  nowNeedsApproval: 'now needs approval',
  noLongerNeedsApproval: 'no longer needs approval',
};

/** The JSON document: CLI.md's fields plus apiVersion, the revisions and the mode. */
export function simulateJson(report: SimulateReport): string {
  const { result } = report;
  const document: Record<string, unknown> = {
    apiVersion: 'mandate/v1',
    mode: result.mode,
    base: report.base,
    mergeBase: report.mergeBase,
    head: report.head,
  };
  if (result.mode === 'exhaustive') {
    Object.assign(document, { total: result.total, summary: result.summary, changed: result.changed });
  } else {
    Object.assign(document, {
      calls: report.calls,
      total: result.total,
      summary: result.summary,
      window: result.window,
      changed: result.changed,
      unused: result.unused,
      unevaluable: result.unevaluable,
      malformedLines: result.malformedLines,
    });
    if (report.suggestion) document.suggestion = { ...report.suggestion, ...(report.out === undefined ? {} : { out: report.out }) };
  }
  return JSON.stringify(document, null, 2);
}

function paintChange(colors: Palette, change: ChangeKind | keyof SimulationSummary, text: string): string {
  switch (change) {
    case 'gained': return colors.yellow(text);
    case 'revoked': return colors.red(text);
    case 'nowNeedsApproval': return colors.cyan(text);
    case 'noLongerNeedsApproval': return colors.magenta(text);
    case 'unevaluable': return colors.dim(text);
    default: return colors.green(text);
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function callText(call: { agent?: string; tool?: string; action?: string; resource?: string }): string {
  const text = `${call.agent ?? '?'} ${call.tool ?? '?'}:${call.action ?? '?'}${call.resource === undefined ? '' : ` ${call.resource}`}`;
  return safeLine(text, 300);
}

/** The terminal report: summary table, changed calls (or triples), unused grants, unevaluable calls, the patch. */
export function simulateText(report: SimulateReport, colors: Palette): string {
  const { result } = report;
  const lines: string[] = [];
  const head = report.head === null ? 'working tree' : report.head.slice(0, 12);
  const sides = colors.dim(`base ${report.mergeBase.slice(0, 12)} (merge base)  →  head ${head}`);
  if (result.mode === 'exhaustive') {
    lines.push(colors.bold(`mandate simulate: exhaustive effective access, ${plural(result.total, 'agent tool action', 'agent tool actions')}`), sides);
  } else {
    const window = result.window.first === null ? '' : `, ${result.window.first} to ${result.window.last}`;
    lines.push(colors.bold(`mandate simulate: ${plural(result.total, 'call')} from ${safeLine(report.calls ?? '', 200)}${window}`), sides);
  }
  lines.push('');
  const width = Math.max(...SUMMARY_ROWS.map(([, label]) => label.length));
  const numbers = Math.max(...SUMMARY_ROWS.map(([key]) => count(result.summary[key]).length));
  for (const [key, label] of SUMMARY_ROWS) {
    const value = result.summary[key];
    const row = `  ${label.padEnd(width)}  ${count(value).padStart(numbers)}`;
    lines.push(value === 0 ? colors.dim(row) : paintChange(colors, key, row));
  }
  const changedTotal = result.summary.gained + result.summary.revoked + result.summary.nowNeedsApproval + result.summary.noLongerNeedsApproval;
  if (result.changed.length > 0) {
    const shown = result.changed.length < changedTotal ? ` (first ${count(result.changed.length)} of ${count(changedTotal)})` : '';
    lines.push('', colors.underline(`Changed${shown}`));
    const labelWidth = Math.max(...result.changed.map((entry) => CHANGE_LABEL[entry.change].length));
    if (result.mode === 'exhaustive') {
      for (const entry of result.changed) {
        lines.push(`  ${paintChange(colors, entry.change, CHANGE_LABEL[entry.change].padEnd(labelWidth))}  ${callText(entry)}  ${entry.base} → ${entry.head}`);
        lines.push(colors.dim(`  ${' '.repeat(labelWidth)}  resources: ${safeLine(entry.resources.base.join(', ') || '-', 300)} → ${safeLine(entry.resources.head.join(', ') || '-', 300)}`));
      }
    } else {
      for (const entry of result.changed) {
        lines.push(`  ${paintChange(colors, entry.change, CHANGE_LABEL[entry.change].padEnd(labelWidth))}  ${callText(entry.call)}  ${entry.base} → ${entry.head}  ${colors.dim(`line ${entry.line}, ${entry.call.time}`)}`);
        lines.push(colors.dim(`  ${' '.repeat(labelWidth)}  ${safeLine(entry.reason, 300)}`));
      }
    }
  }
  if (result.mode === 'calls') {
    lines.push(...unusedLines(result.unused, colors));
    const calls = result.unevaluable.filter((entry) => !entry.reason.startsWith('malformed line'));
    if (calls.length > 0) {
      lines.push('', colors.underline(`Unevaluable${calls.length < result.summary.unevaluable - result.malformedLines ? ` (first ${count(calls.length)})` : ''}`));
      for (const entry of calls) lines.push(`  ${colors.dim(`line ${entry.line}`)}  ${entry.call ? `${callText(entry.call)}: ` : ''}${safeLine(entry.reason, 300)}`);
    }
  }
  if (report.suggestion) {
    const { patch, removed } = report.suggestion;
    lines.push('', colors.underline('Suggested narrowing'));
    if (patch === '') lines.push('  nothing to narrow: the calls used everything the calling agents are granted');
    for (const entry of removed) {
      lines.push(`  ${colors.red('−')} ${safeLine(`${entry.agent} ${entry.tool}: ${entry.actions.join(', ')}`, 300)}  ${colors.dim(`${safeLine(entry.file, 300)}:${entry.line}, ${entry.reason}`)}`);
    }
    if (report.out !== undefined) lines.push(`  patch written to ${safeLine(report.out, 300)} (apply with git apply)`);
    else if (patch !== '') lines.push('', patch.trimEnd());
  }
  return lines.join('\n');
}

function unusedLines(unused: readonly UnusedGrant[], colors: Palette): string[] {
  if (unused.length === 0) return [];
  const lines = ['', colors.underline('Granted at head, used by no call')];
  for (const entry of unused) {
    const parts: string[] = [];
    if (entry.actions.length > 0) parts.push(`actions ${entry.actions.join(', ')}`);
    if (entry.resources.length > 0) parts.push(`resources ${entry.resources.join(', ')}`);
    lines.push(`  ${safeLine(`${entry.agent} ${entry.tool}`, 200)}  ${colors.dim(safeLine(parts.join('; '), 500))}`);
  }
  return lines;
}

const MARKDOWN_ROWS = 20;

/** A short markdown summary: the counts, and the first changed calls. */
export function simulateMarkdown(report: SimulateReport): string {
  const { result } = report;
  const subject = result.mode === 'exhaustive'
    ? `exhaustive effective access, ${plural(result.total, 'agent tool action', 'agent tool actions')}`
    : `${plural(result.total, 'recorded call')}`;
  const lines = [`### mandate simulate: ${subject}`, '', '| outcome | count |', '|---|---:|'];
  for (const [key, label] of SUMMARY_ROWS) lines.push(`| ${label} | ${count(result.summary[key])} |`);
  if (result.changed.length > 0) {
    lines.push('', '| change | call | base | head |', '|---|---|---|---|');
    for (const entry of result.changed.slice(0, MARKDOWN_ROWS)) {
      const call = result.mode === 'exhaustive'
        ? (entry as ExhaustiveSimulation['changed'][number])
        : (entry as CallSimulation['changed'][number]).call;
      const target = `${codeSpan(call.agent)} ${codeSpan(`${call.tool}:${call.action}`)}${'resource' in call && call.resource !== undefined ? ` on ${codeSpan(call.resource)}` : ''}`;
      lines.push(`| ${CHANGE_LABEL[entry.change]} | ${target} | ${entry.base} | ${entry.head} |`);
    }
    const changedTotal = result.summary.gained + result.summary.revoked + result.summary.nowNeedsApproval + result.summary.noLongerNeedsApproval;
    if (changedTotal > MARKDOWN_ROWS) lines.push('', escapeMarkdown(`…and ${count(changedTotal - Math.min(MARKDOWN_ROWS, result.changed.length))} more changed.`));
  }
  if (report.suggestion && report.suggestion.patch !== '') {
    lines.push('', '<details><summary>Suggested narrowing</summary>', '', '```diff', report.suggestion.patch.replace(/```/g, 'ˋˋˋ').trimEnd(), '```', '', '</details>');
  }
  return lines.join('\n');
}
