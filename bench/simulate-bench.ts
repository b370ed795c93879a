// The replay benchmark (BENCH.md): `mandate simulate` streaming 1,000,000
// generated JSONL calls against the 1,000-agent generated repository, base =
// head = HEAD of a git copy of the generated tree. Each run is the built CLI
// itself, `mandate simulate --calls FILE --base HEAD --head HEAD --format
// json`, with bench/exit-report.ts preloaded to report at exit: the time is
// from process start to exit, the peak RSS the whole process's (worker
// threads included). Absolute targets: < 10 s and < 200 MB peak RSS (the
// minimum of the runs). `--quick`: 100,000 calls on 100 agents, informational.
//
// The calls file is generated once under bench/.work/ and reused while its
// marker names this generator version, seed and size. Calls are drawn from
// the repository's own grants (resources instantiated from their patterns,
// agents sometimes named by an alias), with a share of calls that miss: an
// undeclared action, a resource outside every pattern, no resource, an
// unknown agent, a non-canonical resource.

import { execFileSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { fileSystemTree } from '../core/fs-tree';
import { loadSnapshot } from '../core/validate';
import { Rng } from './generate';
import { formatCount, formatMs, minOf, printTable, runChild, type Figure } from './measure';

/** Bump whenever the generated calls change. */
const CALLS_VERSION = 1;
const NOW = new Date('2026-12-01T00:00:00Z');
const TIME_TARGET_MS = 10_000;
const RSS_TARGET_KB = 200 * 1024;
const FULL = { agents: 1_000, calls: 1_000_000 };
const QUICK = { agents: 100, calls: 100_000 };

export interface SimulateBenchOptions {
  quick: boolean;
  runs: number;
  seed: number;
  workDir: string;
  /** The generated repository for N agents (bench/main.ts owns generation and reuse). */
  ensureRepository: (agents: number, seed: number) => { dir: string };
}

/** Runs the benchmark and prints its table; returns how many figures missed their target. */
export async function simulateBench(options: SimulateBenchOptions): Promise<number> {
  const size = options.quick ? QUICK : FULL;
  const repo = options.ensureRepository(size.agents, options.seed);
  const calls = await ensureCalls(options.workDir, repo.dir, size.agents, size.calls, options.seed);
  console.error(`simulate, ${formatCount(size.calls)} calls, ${formatCount(size.agents)} agents: ${options.runs} runs ...`);
  const gitRepo = ensureGitCopy(options.workDir, repo.dir);
  const dist = dirname(fileURLToPath(import.meta.url));
  const best = await minOf(options.runs, {
    simulate: runChild(['simulate', '--repo', gitRepo, '--calls', calls, '--base', 'HEAD', '--head', 'HEAD', '--format', 'json'], {
      script: join(dist, 'cli.js'),
      nodeArgs: ['--import', pathToFileURL(join(dist, 'exit-report.js')).href],
      env: { ...process.env, MANDATE_NOW: NOW.toISOString() },
    }),
  });
  const run = best.simulate;
  const label = `simulate, ${formatCount(size.calls)} JSONL calls, ${formatCount(size.agents)} agents`;
  const absolute = !options.quick;
  const figures: Figure[] = [
    {
      figure: label,
      subject: { label: 'simulate', value: run.ms, unit: 'ms' },
      baseline: { label: 'budget', value: TIME_TARGET_MS, unit: 'ms' },
      ...(absolute ? { target: 1 } : { note: '(< 10 s at 1,000,000 calls)' }),
    },
    {
      figure: '  peak RSS',
      subject: { label: 'simulate', value: run.maxRssKb, unit: 'kb' },
      baseline: { label: 'budget', value: RSS_TARGET_KB, unit: 'kb' },
      ...(absolute ? { target: 1 } : { note: '(< 200 MB at 1,000,000 calls)' }),
    },
  ];
  const { failed } = printTable(`simulate replay, absolute targets (minimum of ${options.runs} runs, child processes, seed ${options.seed})`, figures);
  const info = run.info;
  const n = (value: unknown): string => (typeof value === 'number' ? formatCount(value) : String(value));
  const summary = (info.summary ?? {}) as Record<string, number>;
  console.log(
    `${n(info.total)} calls (${n(Math.round(Number(info.total) / (run.ms / 1000)))} calls/s end to end); unchanged ${n(summary.unchanged)}, unevaluable ${n(summary.unevaluable)}; ` +
      `CPU time ${formatMs(Number(info.cpuMs))} (all threads, garbage collection included)`,
  );
  return failed;
}

/**
 * A git repository holding the generated tree in one commit, as `mandate
 * simulate` reads it (both sides from git objects); replaced when the
 * generated tree changes.
 */
function ensureGitCopy(workDir: string, repoDir: string): string {
  const dir = join(workDir, `${basename(repoDir)}-git`);
  const marker = join(workDir, `${basename(repoDir)}-git.json`);
  const want = JSON.stringify(readRepoMarker(repoDir));
  if (existsSync(join(dir, '.git')) && existsSync(marker) && readFileSync(marker, 'utf8') === want) return dir;
  rmSync(marker, { force: true });
  rmSync(dir, { recursive: true, force: true });
  cpSync(repoDir, dir, { recursive: true });
  const git = (...args: string[]): void => {
    execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' } });
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'generated repository');
  writeFileSync(marker, want);
  return dir;
}

// ---------------------------------------------------------------------------
// The calls file

/** The calls file for this repository and size, generated when missing or stale. */
async function ensureCalls(workDir: string, repoDir: string, agents: number, count: number, seed: number): Promise<string> {
  const file = join(workDir, `calls-${agents}-${count}.jsonl`);
  const marker = `${file}.json`;
  const want = { version: CALLS_VERSION, seed, agents, count, repo: readRepoMarker(repoDir) };
  if (existsSync(file) && existsSync(marker)) {
    try {
      if (JSON.stringify(JSON.parse(readFileSync(marker, 'utf8'))) === JSON.stringify(want)) {
        console.error(`reusing ${file}`);
        return file;
      }
    } catch {
      // regenerate
    }
  }
  rmSync(marker, { force: true });
  const start = performance.now();
  await generateCalls(file, repoDir, count, seed);
  writeFileSync(marker, JSON.stringify(want));
  console.error(`generated ${formatCount(count)} calls in ${file}: ${(statSync(file).size / 1048576).toFixed(1)} MB, ${formatMs(performance.now() - start)}`);
  return file;
}

function readRepoMarker(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, '.bench-generated.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** A resource inside a pattern: each `*` becomes a short token, a trailing `/**` zero to two more segments. */
function instantiate(pattern: string, rng: Rng): string {
  const token = (): string => rng.pick(['a1', 'b7', 'c42', 'x', 'prod', 'eu-1', '0031', 'main']);
  if (pattern === '**') return `any/${token()}/${token()}`;
  const deep = pattern.endsWith('/**');
  let body = (deep ? pattern.slice(0, -3) : pattern).replace(/\*/g, () => token());
  if (deep) for (let extra = rng.int(3); extra > 0; extra--) body += `/${token()}`;
  return body;
}

async function generateCalls(file: string, repoDir: string, count: number, seed: number): Promise<void> {
  const snapshot = await loadSnapshot(fileSystemTree(repoDir), { now: NOW });
  const { model } = snapshot;
  const agents = [...model.agents.values()].map(({ doc }) => doc).filter((doc) => (model.grants.get(doc.id) ?? []).length > 0);
  const rng = new Rng(seed ^ 0x5eed);
  const out = createWriteStream(file);
  const startMs = NOW.getTime() - 30 * 86_400_000;
  let chunk: string[] = [];
  for (let index = 0; index < count; index++) {
    const agent = rng.pick(agents);
    const grant = rng.pick(model.grants.get(agent.id)!);
    const call: { agent: string; tool: string; action: string; resource?: string; time: string } = {
      agent: agent.aliases && agent.aliases.length > 0 && rng.chance(0.2) ? rng.pick(agent.aliases) : agent.id,
      tool: grant.tool,
      action: rng.pick(grant.actions),
      time: new Date(startMs + rng.int(30 * 86_400_000)).toISOString(),
    };
    if (grant.resources) call.resource = instantiate(rng.pick(grant.resources), rng);
    const miss = rng.float();
    if (miss < 0.02) call.action = `${call.action}.v2`;
    else if (miss < 0.05) call.resource = `elsewhere/${rng.int(1000)}`;
    else if (miss < 0.06) delete call.resource;
    else if (miss < 0.07) call.agent = `shadow-agent-${rng.int(50)}`;
    else if (miss < 0.075) call.resource = 'queue//x';
    chunk.push(JSON.stringify(call));
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
}
