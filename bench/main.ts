// `npm run bench` (bundled to dist/bench.js, run as `node --expose-gc dist/bench.js`).
//
//   node dist/bench.js [validate|decide|diff|simulate] [--quick] [--runs N] [--sizes 100,1000] [--seed N]
//     (a section name runs that benchmark alone; without one, all four run)
//   node dist/bench.js --child parse|validate DIR     (one measured run; used by the parent)
//
// The validate benchmark (BENCH.md): for N = 100, 1,000, 10,000 agents
// (`--quick`: 100), the generated repository is validated and, as the
// baseline, barely parsed (every governance file read and turned into plain JS
// by the `yaml` package), each in its own child process, interleaved, minimum
// of 3. Exit code 1 when a figure misses its target or a run fails.
//
// Then the decide throughput (bench/decide-bench.ts): decide vs cedar-wasm on
// the exported Cedar policies, 1,000 agents (`--quick`: 100, fewer calls),
// the diff benchmark (bench/diff-bench.ts) on a 5,000-agent history, and
// the replay (bench/simulate-bench.ts): the built CLI's `mandate simulate`
// on 1,000,000 calls.

import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { validateRepository } from '../core/validate';
import { runDecideBench } from './decide-bench';
import { diffBenchChild, runDiffBench } from './diff-bench';
import { DEFAULT_SEED, GENERATOR_VERSION, generateRepository } from './generate';
import { simulateBench } from './simulate-bench';
import { formatCount, formatMs, minOf, printTable, reportFromChild, runChild, type Best, type Figure } from './measure';
import { fileLoader } from '../cli/context';

/** Generated repositories live here (git-ignored), reused across runs. */
const WORK_DIR = fileURLToPath(new URL('../bench/.work/', import.meta.url));
const MARKER = '.bench-generated.json';
/** A fixed "today" so findings (review-overdue, grant-expired) do not drift with the calendar. */
const NOW = new Date('2026-12-01T00:00:00Z');
const FULL_SIZES = [100, 1_000, 10_000];
const QUICK_SIZES = [100];
const RATIO_TARGET = 1.5; // validate / bare parse, at 10,000 agents
const RATIO_TARGET_AT = 10_000;
const SCALING_TARGET = 12; // validate time at 10x the agents

// ---------------------------------------------------------------------------
// Child mode

/** Governance files: every `*.yaml` / `*.yml` under the roots, symlinks not followed. */
function governanceFiles(root: string, roots: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (e.name.endsWith('.yaml') || e.name.endsWith('.yml'))) out.push(p);
    }
  };
  for (const r of roots) walk(join(root, r));
  return out;
}

/** The baseline: read `mandate.yaml` and every governance file, `parseAllDocuments` + `toJS` each document. */
function bareParse(root: string): Record<string, unknown> {
  let roots: string[] = ['policies', 'controls'];
  let documents = 0;
  const config = join(root, 'mandate.yaml');
  if (existsSync(config)) {
    for (const doc of parseAllDocuments(readFileSync(config, 'utf8'))) {
      const js = doc.toJS() as { roots?: unknown } | null;
      documents++;
      if (Array.isArray(js?.roots)) roots = js.roots.map(String);
    }
  }
  const files = governanceFiles(root, roots);
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      doc.toJS();
      documents++;
    }
  }
  return { files: files.length, documents };
}

async function childMain(args: string[]): Promise<void> {
  const [mode, dir] = args;
  if (!dir || (mode !== 'parse' && mode !== 'validate')) throw new Error('usage: bench.js --child parse|validate DIR');
  if (mode === 'parse') {
    await reportFromChild(() => bareParse(dir));
    return;
  }
  await reportFromChild(async () => {
    const result = await validateRepository(dir, { now: NOW, loader: fileLoader() });
    return { files: result.summary.files, findings: result.findings.length, errors: result.summary.errors, warnings: result.summary.warnings, waived: result.summary.waived };
  });
}

// ---------------------------------------------------------------------------
// Parent mode

interface Flags {
  sizes: number[];
  runs: number;
  seed: number;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { sizes: FULL_SIZES, runs: 3, seed: DEFAULT_SEED };
  const positive = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') flags.sizes = QUICK_SIZES;
    else if (a === '--runs') flags.runs = positive(a, argv[++i]);
    else if (a === '--seed') flags.seed = positive(a, argv[++i]);
    else if (a === '--sizes') flags.sizes = (argv[++i] ?? '').split(',').map((s) => positive(a, s));
    else throw new Error(`unknown argument ${a}; usage: bench.js [--quick] [--runs N] [--sizes 100,1000] [--seed N]`);
  }
  return flags;
}

/** The generated repository for `agents`, reused when its marker names this generator version and seed. */
function ensureRepository(agents: number, seed: number): { dir: string; governanceFiles: number } {
  const dir = join(WORK_DIR, `agents-${agents}`);
  const marker = join(dir, MARKER);
  const want = { generator: GENERATOR_VERSION, seed, agents };
  if (existsSync(marker)) {
    try {
      const have = JSON.parse(readFileSync(marker, 'utf8')) as typeof want & { governanceFiles: number };
      if (have.generator === want.generator && have.seed === want.seed && have.agents === want.agents) {
        console.error(`reusing ${dir}`);
        return { dir, governanceFiles: have.governanceFiles };
      }
    } catch {
      // regenerate
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const start = performance.now();
  const repo = generateRepository(dir, { agents, seed });
  writeFileSync(marker, `${JSON.stringify({ ...want, governanceFiles: repo.governanceFiles, bytes: repo.bytes })}\n`);
  console.error(`generated ${formatCount(agents)} agents in ${dir}: ${formatCount(repo.files)} files, ${(repo.bytes / 1048576).toFixed(1)} MB, ${formatMs(performance.now() - start)}`);
  return { dir, governanceFiles: repo.governanceFiles };
}

const SECTIONS = ['validate', 'decide', 'diff', 'simulate'] as const;

async function benchMain(argv: string[]): Promise<void> {
  const section = SECTIONS.find((name) => name === argv[0]);
  const flags = parseFlags(section ? argv.slice(1) : argv);
  const runs = (name: (typeof SECTIONS)[number]): boolean => section === undefined || section === name;
  let failed = 0;
  const quick = argv.includes('--quick');
  if (runs('validate')) failed += await runValidateBench(flags);
  if (runs('decide')) failed += await runDecide(flags, quick);
  if (runs('diff')) {
    try {
      failed += (await runDiffBench({ workDir: WORK_DIR, now: NOW, seed: flags.seed, runs: flags.runs, quick })).failed;
    } catch (e) {
      failed++;
      console.error(`diff benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (runs('simulate')) failed += await runSimulateBench(flags, quick);
  if (failed > 0) process.exitCode = 1;
}

/** The validate benchmark; returns how many targets failed. */
async function runValidateBench(flags: Flags): Promise<number> {
  const results = new Map<number, { parse: Best; validate: Best; files: number }>();
  let failed = 0;
  for (const n of flags.sizes) {
    const repo = ensureRepository(n, flags.seed);
    console.error(`validate, ${formatCount(n)} agents: ${flags.runs} interleaved runs of bare parse and validate ...`);
    try {
      const best = await minOf(flags.runs, {
        parse: runChild(['--child', 'parse', repo.dir]),
        validate: runChild(['--child', 'validate', repo.dir]),
      });
      results.set(n, { ...best, files: repo.governanceFiles });
      for (const [side, b] of Object.entries(best)) {
        if (b.info.files !== repo.governanceFiles) {
          console.error(`warning: ${side} saw ${String(b.info.files)} files, the generator wrote ${repo.governanceFiles}`);
        }
      }
    } catch (e) {
      failed++;
      console.error(`validate, ${formatCount(n)} agents failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const figures: Figure[] = [];
  for (const [n, r] of results) {
    figures.push({
      figure: `validate, ${formatCount(n)} agents`,
      subject: { label: 'validate', value: r.validate.ms, unit: 'ms' },
      baseline: { label: 'bare parse', value: r.parse.ms, unit: 'ms' },
      ...(n === RATIO_TARGET_AT ? { target: RATIO_TARGET } : { note: `(<= ${RATIO_TARGET}x at ${formatCount(RATIO_TARGET_AT)})` }),
    });
    figures.push({
      figure: `  peak RSS, ${formatCount(n)} agents`,
      subject: { label: 'validate', value: r.validate.maxRssKb, unit: 'kb' },
      baseline: { label: 'bare parse', value: r.parse.maxRssKb, unit: 'kb' },
    });
  }
  const sizes = [...results.keys()].sort((a, b) => a - b);
  for (let i = 1; i < sizes.length; i++) {
    const lo = sizes[i - 1] as number;
    const hi = sizes[i] as number;
    const a = results.get(lo) as { parse: Best; validate: Best };
    const b = results.get(hi) as { parse: Best; validate: Best };
    const tenfold = hi === lo * 10;
    figures.push({
      figure: `validate scaling, ${formatCount(lo)} -> ${formatCount(hi)} agents`,
      subject: { label: `at ${formatCount(hi)}`, value: b.validate.ms, unit: 'ms' },
      baseline: { label: `at ${formatCount(lo)}`, value: a.validate.ms, unit: 'ms' },
      ...(tenfold && hi === 10_000 ? { target: SCALING_TARGET } : { note: tenfold ? `(<= ${SCALING_TARGET}x at 1,000 -> 10,000)` : '-' }),
    });
    figures.push({
      figure: `  bare parse scaling, ${formatCount(lo)} -> ${formatCount(hi)}`,
      subject: { label: `at ${formatCount(hi)}`, value: b.parse.ms, unit: 'ms' },
      baseline: { label: `at ${formatCount(lo)}`, value: a.parse.ms, unit: 'ms' },
    });
  }
  if (figures.length > 0) {
    failed += printTable(`validate vs bare parse (minimum of ${flags.runs} interleaved runs, child processes, seed ${flags.seed})`, figures).failed;
    console.log('');
    for (const n of sizes) {
      const r = results.get(n) as { parse: Best; validate: Best; files: number };
      const v = r.validate.info;
      const count = (x: unknown): string => (typeof x === 'number' ? formatCount(x) : String(x));
      console.log(
        `${formatCount(n)} agents: ${formatCount(r.files)} governance files; validate found ${count(v.findings)} findings ` +
          `(${count(v.errors)} errors, ${count(v.warnings)} warnings, ${count(v.waived)} waived); ` +
          `child wall time validate ${formatMs(r.validate.wallMs ?? 0)}, bare parse ${formatMs(r.parse.wallMs ?? 0)}; ` +
          `CPU time (all threads) validate ${formatMs(Number(v.cpuMs))}, bare parse ${formatMs(Number(r.parse.info.cpuMs))}`,
      );
    }
  }
  return failed;
}

/** decide throughput (BENCH.md): 1,000 agents; --quick: the smallest size and fewer calls. */
async function runDecide(flags: Flags, quick: boolean): Promise<number> {
  let failed = 0;
  const decideAgents = quick ? (QUICK_SIZES[0] as number) : 1_000;
  try {
    const repo = ensureRepository(decideAgents, flags.seed);
    const calls = quick ? { decideCalls: 50_000, cedarCalls: 2_000 } : { decideCalls: 200_000, cedarCalls: 10_000 };
    failed += (await runDecideBench({ dir: repo.dir, agents: decideAgents, now: NOW, seed: flags.seed, runs: flags.runs, ...calls })).failed;
  } catch (e) {
    failed++;
    console.error(`decide throughput failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return failed;
}

/** The replay benchmark (bench/simulate-bench.ts); `node dist/bench.js simulate [--quick]` runs it alone. */
async function runSimulateBench(flags: Flags, quick: boolean): Promise<number> {
  try {
    return await simulateBench({ quick, runs: flags.runs, seed: flags.seed, workDir: WORK_DIR, ensureRepository });
  } catch (e) {
    console.error(`simulate benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

// ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
try {
  if (argv[0] === '--child') await childMain(argv.slice(1));
  else if (argv[0] === '--child-diff') await diffBenchChild(argv[1] ?? '', argv[2] ?? '', NOW);
  else await benchMain(argv);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
}
