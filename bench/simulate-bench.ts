// The replay benchmark (BENCH.md): `mandate simulate` streaming 1,000,000
// generated JSONL calls against the 1,000-agent generated repository, base =
// head (two snapshots of the same tree, loaded through one parse cache as
// `loadRevisions` does). Absolute targets: < 10 s and < 200 MB peak RSS,
// measured in a child process (load both snapshots + replay; the minimum of
// the runs). `--quick`: 100,000 calls on 100 agents, informational.
//
// The calls file is generated once under bench/.work/ and reused while its
// marker names this generator version, seed and size. Calls are drawn from
// the repository's own grants (resources instantiated from their patterns,
// agents sometimes named by an alias), with a share of calls that miss: an
// undeclared action, a resource outside every pattern, no resource, an
// unknown agent, a non-canonical resource.

import { createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileSystemTree } from '../core/fs-tree';
import type { LoadedFile } from '../core/validate';
import { loadSnapshot } from '../core/validate';
import { simulateCallLog } from '../core/simulate';
import { Rng } from './generate';
import { formatCount, formatMs, minOf, printTable, reportFromChild, runChild, type Figure } from './measure';
import { fileLoader } from '../cli/context';
import { AgentMemo } from '../core/agent-memo';
import type { Model } from '../core/model';

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
  const best = await minOf(options.runs, { simulate: runChild(['--child-simulate', repo.dir, calls]) });
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
    `${n(info.total)} calls: load both snapshots ${formatMs(Number(info.loadMs))}, replay ${formatMs(Number(info.replayMs))} ` +
      `(${n(Math.round(Number(info.total) / (Number(info.replayMs) / 1000)))} calls/s); ` +
      `unchanged ${n(summary.unchanged)}, unevaluable ${n(summary.unevaluable)}; ` +
      `child wall time ${formatMs(run.wallMs ?? 0)}, CPU time ${formatMs(Number(info.cpuMs))} (all threads, garbage collection included)`,
  );
  return failed;
}

/**
 * Both sides' models, loaded as loadRevisions loads them for `mandate simulate`
 * (one parse cache, one agent memo, the CLI's parse pool, no rules); like the command,
 * the replay keeps the models only, not findings, capabilities or caches.
 */
async function loadModels(dir: string): Promise<{ base: Model; head: Model }> {
  const shared = { now: NOW, cache: new Map<string, LoadedFile>(), memo: new AgentMemo(), loader: fileLoader(), rules: false };
  const base = await loadSnapshot(fileSystemTree(dir), shared);
  const head = await loadSnapshot(fileSystemTree(dir), shared);
  return { base: base.model, head: head.model };
}

/** Child mode: `--child-simulate DIR CALLS`. */
export async function simulateChild(args: string[]): Promise<void> {
  const [dir, calls] = args;
  if (!dir || !calls) throw new Error('usage: bench.js --child-simulate DIR CALLS');
  await reportFromChild(async () => {
    const start = performance.now();
    const { base, head } = await loadModels(dir);
    const loaded = performance.now();
    const result = await simulateCallLog(calls, base, head, { now: NOW });
    const replayMs = performance.now() - loaded;
    const cpu = process.cpuUsage();
    return {
      total: result.total, summary: result.summary, changed: result.changed.length, unused: result.unused.length,
      loadMs: loaded - start, replayMs, cpuMs: (cpu.user + cpu.system) / 1000,
    };
  });
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
