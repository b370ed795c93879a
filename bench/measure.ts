// Measuring helpers for `npm run bench` (BENCH.md): interleaved minimum-of-N
// runs, a child-process runner reporting time and peak RSS, and the table
// every figure is printed in (ratio against its baseline, absolute numbers
// beside it, PASS/FAIL against the target).

import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** One run of one side. */
export interface Sample {
  /** Time of the measured work only (a child reports it; process startup and module loading excluded). */
  ms: number;
  /** Peak resident set size in KiB (`process.resourceUsage().maxRSS`). */
  maxRssKb: number;
  /** Wall time of the whole child process as the parent saw it, startup included (child runs only). */
  wallMs?: number;
  /** Anything else the run reported (file counts, findings, ...). */
  info: Record<string, unknown>;
}

/** The minimum over the runs of one side, each figure minimised on its own. */
export interface Best {
  ms: number;
  maxRssKb: number;
  wallMs?: number;
  /** `info` of the fastest run. */
  info: Record<string, unknown>;
  samples: Sample[];
}

export type Run = () => Promise<Sample>;

/**
 * Runs every side `runs` times, interleaved (round r starts with side r mod
 * count, so no side always goes first), and keeps each side's minimum.
 * Put the baseline first by convention: `minOf(3, { parse, validate })`.
 */
export async function minOf<K extends string>(runs: number, sides: Record<K, Run>): Promise<Record<K, Best>> {
  const names = Object.keys(sides) as K[];
  const samples = new Map<K, Sample[]>(names.map((k) => [k, []]));
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(r + j) % names.length] as K;
      (samples.get(name) as Sample[]).push(await sides[name]());
    }
  }
  const out = {} as Record<K, Best>;
  for (const name of names) {
    const list = samples.get(name) as Sample[];
    const fastest = list.reduce((a, b) => (b.ms < a.ms ? b : a));
    const walls = list.map((s) => s.wallMs).filter((w): w is number => w !== undefined);
    out[name] = {
      ms: fastest.ms,
      maxRssKb: Math.min(...list.map((s) => s.maxRssKb)),
      ...(walls.length > 0 ? { wallMs: Math.min(...walls) } : {}),
      info: fastest.info,
      samples: list,
    };
  }
  return out;
}

/**
 * A side measured in this process. Collects garbage first when `--expose-gc`
 * is on. `maxRssKb` is this process's peak so far, so it only grows: use
 * child runs to compare memory.
 */
export function inProcess(work: () => unknown): Run {
  return async () => {
    (globalThis as { gc?: () => void }).gc?.();
    const start = performance.now();
    const result = await work();
    const ms = performance.now() - start;
    const info = result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : {};
    return { ms, maxRssKb: process.resourceUsage().maxRSS, info };
  };
}

export interface ChildOptions {
  /** Script to run; default: this process's own entry (`process.argv[1]`). */
  script?: string;
  /** Node flags; default: this process's (`process.execArgv`, e.g. `--expose-gc`). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs `node SCRIPT ...args` and returns what it reports: the child prints one
 * JSON line `{ "ms", "maxRssKb", ... }` last on stdout (see `reportFromChild`).
 * Rejects with the child's stderr when it fails or prints no such line.
 */
export function runChild(args: string[], options: ChildOptions = {}): Run {
  return () =>
    new Promise<Sample>((resolve, reject) => {
      const script = options.script ?? process.argv[1];
      if (!script) return reject(new Error('runChild: no script to run'));
      const start = performance.now();
      const child = spawn(process.execPath, [...(options.nodeArgs ?? process.execArgv), script, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const wallMs = performance.now() - start;
        const fail = (why: string): void => reject(new Error(`child ${args.join(' ')}: ${why}${stderr ? `\n${stderr.trimEnd()}` : ''}`));
        if (code !== 0) return fail(signal ? `killed by ${signal}` : `exit code ${code}`);
        const last = stdout.trimEnd().split('\n').pop() ?? '';
        let parsed: unknown;
        try {
          parsed = JSON.parse(last);
        } catch {
          return fail(`last stdout line is not JSON: ${JSON.stringify(last.slice(0, 200))}`);
        }
        const { ms, maxRssKb, ...info } = (parsed ?? {}) as Record<string, unknown>;
        if (typeof ms !== 'number' || typeof maxRssKb !== 'number') return fail('report lacks numeric ms and maxRssKb');
        resolve({ ms, maxRssKb, wallMs, info });
      });
    });
}

/**
 * The child side of `runChild`: times `work`, then prints
 * `{ ms, maxRssKb, ...whatever work returned }` as one JSON line on stdout.
 */
export async function reportFromChild(work: () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void): Promise<void> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const info = (await work()) ?? {};
  const ms = performance.now() - start;
  // CPU time of every thread (parse workers included), beside the wall time the targets use.
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, ...info, ms, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

// ---------------------------------------------------------------------------
// Formatting

export type Unit = 'ms' | 'kb';

export interface Measured {
  label: string;
  value: number;
  unit: Unit;
}

export interface Figure {
  /** What is compared, e.g. `validate, 10,000 agents`. */
  figure: string;
  subject: Measured;
  baseline: Measured;
  /** Upper bound on subject / baseline; without it the figure is informational. */
  target?: number;
  /** Shown in the target column when there is no target. */
  note?: string;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function formatMs(ms: number): string {
  return ms >= 100 ? `${int.format(ms)} ms` : `${one.format(ms)} ms`;
}

export function formatKb(kb: number): string {
  return `${one.format(kb / 1024)} MB`;
}

export function formatCount(n: number): string {
  return int.format(n);
}

function formatMeasured(m: Measured): string {
  return `${m.label} ${m.unit === 'ms' ? formatMs(m.value) : formatKb(m.value)}`;
}

export function ratioOf(f: Figure): number {
  return f.baseline.value > 0 ? f.subject.value / f.baseline.value : Number.POSITIVE_INFINITY;
}

/**
 * Prints one table: figure, ratio, the absolute numbers of both sides, target
 * and PASS/FAIL. Returns how many figures missed their target.
 */
export function printTable(title: string, figures: Figure[], write: (line: string) => void = (l) => console.log(l)): { failed: number } {
  const header = ['figure', 'ratio', 'measured', 'baseline', 'target', 'result'];
  const rows = figures.map((f) => {
    const ratio = ratioOf(f);
    const pass = f.target === undefined ? undefined : ratio <= f.target;
    return [
      f.figure,
      `${ratio.toFixed(2)}x`,
      formatMeasured(f.subject),
      formatMeasured(f.baseline),
      f.target === undefined ? (f.note ?? '-') : `<= ${f.target}x`,
      pass === undefined ? '' : pass ? 'PASS' : 'FAIL',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  write('');
  write(title);
  write(line(header));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) write(line(r));
  return { failed: rows.filter((r) => r[5] === 'FAIL').length };
}
