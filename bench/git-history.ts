// The git-history variant of the benchmark repository (BENCH.md, `diff`).
//
// Builds a real git repository whose `main` ends at exactly the tree
// `generateRepository(dir, { agents, seed })` writes, reached through `commits`
// commits (a root commit with the whole repository, then commits each touching
// a few agent files, some of them adding an agent), plus a branch `pr` off
// `main` changing exactly one agent file: one resource of one grant widened.
//
// The history is made backwards from the final state (each touched agent gets
// an older variant before the commit that moves it to its next state) and fed
// to one `git fast-import`, so 2,000 commits take seconds, not minutes. The
// benchmark may shell out to git; the product may not.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import {
  DEFAULT_SEED,
  Rng,
  agentPath,
  buildModel,
  makePermission,
  renderAgent,
  renderRepository,
  type AgentSpec,
  type CatalogLayout,
  type PersonSpec,
  type RepositoryModel,
  type ToolSpec,
} from './generate';

export interface HistoryOptions {
  /** Agents in the final tree; default: `files` minus the catalog files, else 5,000. */
  agents?: number;
  /** Approximate total number of files in the final tree (used when `agents` is not given); below 225 the catalog is grouped. */
  files?: number;
  /** Commits on `main`, the root commit included (default 2,000). */
  commits?: number;
  seed?: number;
}

export interface GeneratedHistory {
  dir: string;
  agents: number;
  /** Files in the final tree of `main`. */
  files: number;
  /** Commits on `main`, the root commit included. */
  commits: number;
  main: string;
  pr: string;
  /** The one file `pr` changes. */
  prFile: string;
  /** The agent whose grant `pr` widens, and the resource change. */
  prAgent: string;
  prChange: { tool: string; from: string; to: string };
}

/** Files every repository has besides the agents (mandate.yaml included). */
function catalogFileCount(model: RepositoryModel, layout: CatalogLayout): number {
  return [...renderRepository({ ...model, agents: [] }, layout)].length;
}

const clone = (a: AgentSpec): AgentSpec => structuredClone(a);

/** An earlier state of `agent`: one small edit of the kind people make, and the summary of the forward change. */
function olderVariant(rng: Rng, agent: AgentSpec, toolsById: Map<string, ToolSpec>): { older: AgentSpec; summary: string } {
  const older = clone(agent);
  const perms = older.permissions;
  const i = rng.int(Math.max(1, perms.length));
  const p = perms[i];
  switch (rng.int(7)) {
    case 0:
      older.lastReviewed = `2025-${String(rng.range(1, 12)).padStart(2, '0')}-${String(rng.range(1, 28)).padStart(2, '0')}`;
      return { older, summary: 'record access review' };
    case 1:
      if (p?.rateLimit) {
        p.rateLimit = { ...p.rateLimit, max: p.rateLimit.max * 2 };
        return { older, summary: `lower ${p.tool} rate limit` };
      }
      break;
    case 2:
      if (p) {
        p.approval = p.approval === 'required' ? 'none' : 'required';
        return { older, summary: `${p.approval === 'required' ? 'remove' : 'add'} approval gate on ${p.tool}` };
      }
      break;
    case 3:
      if (p) {
        p.expires = `2026-${String(rng.range(6, 12)).padStart(2, '0')}-${String(rng.range(1, 28)).padStart(2, '0')}`;
        return { older, summary: `extend ${p.tool} grant` };
      }
      break;
    case 4:
      if (perms.length > 12) {
        perms.splice(i, 1);
        return { older, summary: `grant ${agent.permissions[i]?.tool ?? 'tool'} access` };
      }
      break;
    case 5: {
      const base = perms[rng.int(Math.max(1, perms.length))];
      const tool = base ? toolsById.get(base.tool) : undefined;
      if (tool) {
        perms.splice(rng.int(perms.length + 1), 0, makePermission(rng, tool, older.team));
        return { older, summary: `drop an unused ${tool.id} grant` };
      }
      break;
    }
    case 6:
      if (p?.resources && p.resources.length > 0) {
        p.resources = [`tenant/t${rng.int(100)}/**`];
        return { older, summary: `move ${p.tool} grant to new resources` };
      }
      break;
  }
  older.lastReviewed = `2025-${String(rng.range(1, 12)).padStart(2, '0')}-15`;
  return { older, summary: 'record access review' };
}

interface Widening {
  agent: AgentSpec;
  widened: AgentSpec;
  tool: string;
  from: string;
  to: string;
}

/** The `pr` change: one resource of one grant widened to its first segment plus `/**` (or to `**`). */
function widen(agent: AgentSpec): Widening | undefined {
  const w = clone(agent);
  for (const p of w.permissions) {
    const from = p.resources?.[0];
    if (!p.resources || from === undefined || from === '**') continue;
    const head = from.split('/')[0] as string;
    const to = from === `${head}/**` || head.includes('*') ? '**' : `${head}/**`;
    p.resources[0] = to;
    return { agent, widened: w, tool: p.tool, from, to };
  }
  return undefined;
}

interface Commit {
  ref: string;
  author: PersonSpec;
  time: number;
  message: string;
  files: { path: string; text: string }[];
}

/** Variables that would point git at another repository (set inside git hooks, for one). */
const REPO_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE'];

function git(dir: string, args: string[], input?: Buffer): string {
  const env = { ...process.env };
  for (const k of REPO_ENV) delete env[k];
  const r = spawnSync('git', args, { cwd: dir, input, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Creates (replacing) a git repository in `dir` whose `main` ends at the
 * generated repository and whose `pr` branch widens one grant. The working
 * tree is left checked out at `main`.
 */
export function generateHistory(dir: string, options: HistoryOptions = {}): GeneratedHistory {
  const seed = (options.seed ?? DEFAULT_SEED) >>> 0;
  const commits = options.commits ?? 2000;
  if (!Number.isInteger(commits) || commits < 1) throw new Error(`commits must be a positive integer, got ${commits}`);
  let agentsCount = options.agents;
  // A file count too small for one file per tool gets the grouped catalog (same documents, 15 files).
  const empty = buildModel({ agents: 0, seed });
  const layout: CatalogLayout = options.files !== undefined && options.files <= catalogFileCount(empty, 'per-document') ? 'grouped' : 'per-document';
  if (agentsCount === undefined) {
    agentsCount = options.files !== undefined ? Math.max(1, options.files - catalogFileCount(empty, layout)) : 5000;
  }
  const model = buildModel({ agents: agentsCount, seed });
  const rng = new Rng(seed ^ 0x5bd1e995);
  const toolsById = new Map(model.tools.map((t) => [t.id, t]));
  const agents = model.agents;
  const n = agents.length;

  // Agents others delegate to must exist in every state: they are never "added" later.
  const targets = new Set<string>();
  for (const a of agents) for (const d of a.delegatesTo) targets.add(d);

  // Walk backwards from the final state.
  const current = agents.slice();
  const present = new Array<boolean>(n).fill(true);
  let absent = 0;
  const steps: { message: string; files: { path: string; text: string }[] }[] = [];
  const pickPresent = (taken: Set<number>): number | undefined => {
    for (let tries = 0; tries < 64; tries++) {
      const i = rng.int(n);
      if (present[i] && !taken.has(i)) return i;
    }
    return undefined;
  };
  for (let c = commits - 1; c >= 1 && n > 0; c--) {
    const taken = new Set<number>();
    const files: { path: string; text: string }[] = [];
    const summaries: string[] = [];
    if (rng.chance(0.1) && absent < n / 5) {
      const i = pickPresent(taken);
      const a = i === undefined ? undefined : (current[i] as AgentSpec);
      if (i !== undefined && a && !targets.has(a.id)) {
        taken.add(i);
        files.push({ path: agentPath(a), text: renderAgent(a) });
        summaries.push(`add agent ${a.id}`);
        present[i] = false;
        absent++;
      }
    }
    const k = files.length > 0 ? rng.range(0, 2) : rng.range(1, 4);
    for (let j = 0; j < k; j++) {
      const i = pickPresent(taken);
      if (i === undefined) continue;
      taken.add(i);
      const a = current[i] as AgentSpec;
      files.push({ path: agentPath(a), text: renderAgent(a) });
      const { older, summary } = olderVariant(rng, a, toolsById);
      summaries.push(`${a.id}: ${summary}`);
      current[i] = older;
    }
    if (files.length === 0) {
      const i = pickPresent(taken) ?? 0;
      const a = current[i] as AgentSpec;
      files.push({ path: agentPath(a), text: renderAgent(a) });
      current[i] = olderVariant(rng, a, toolsById).older;
      summaries.push(`${a.id}: record access review`);
    }
    const message = summaries.length === 1 ? (summaries[0] as string) : `Update ${summaries.length} agents\n\n${summaries.map((s) => `- ${s}`).join('\n')}`;
    steps.push({ message, files });
  }
  steps.reverse();

  // The root commit: the catalog and every agent present at the start, in its oldest state.
  const rootFiles: { path: string; text: string }[] = [];
  for (const f of renderRepository({ ...model, agents: [] }, layout)) rootFiles.push(f);
  for (let i = 0; i < n; i++) if (present[i]) rootFiles.push({ path: agentPath(current[i] as AgentSpec), text: renderAgent(current[i] as AgentSpec) });

  let time = Date.UTC(2026, 0, 5, 9, 0, 0) / 1000;
  const log: Commit[] = [{ ref: 'refs/heads/main', author: rng.pick(model.people), time, message: 'Import the governance repository', files: rootFiles }];
  for (const s of steps) {
    time += rng.range(600, 4 * 3600);
    log.push({ ref: 'refs/heads/main', author: rng.pick(model.people), time, ...s });
  }

  // The pull request: widen one resource of one active agent's grant.
  let pr: Widening | undefined;
  const start = rng.int(Math.max(1, n));
  for (let k = 0; k < n && !pr; k++) {
    const a = agents[(start + k) % n] as AgentSpec;
    if (a.status === 'active') pr = widen(a);
  }
  if (!pr) throw new Error('no active agent with a resource-scoped grant to widen');
  const prFile = agentPath(pr.agent);
  log.push({
    ref: 'refs/heads/pr',
    author: rng.pick(model.people),
    time: time + 3600,
    message: `Widen ${pr.agent.id} ${pr.tool} resources to ${pr.to}`,
    files: [{ path: prFile, text: renderAgent(pr.widened) }],
  });

  // One fast-import stream.
  const chunks: string[] = [];
  let mark = 0;
  let mainMark = 0;
  for (const c of log) {
    mark++;
    const who = `${c.author.name} <${c.author.github}@users.noreply.github.com> ${c.time} +0000`;
    chunks.push(`commit ${c.ref}\nmark :${mark}\nauthor ${who}\ncommitter ${who}\ndata ${Buffer.byteLength(c.message)}\n${c.message}\n`);
    if (c.ref === 'refs/heads/main') {
      if (mainMark > 0) chunks.push(`from :${mainMark}\n`);
      mainMark = mark;
    } else {
      chunks.push(`from :${mainMark}\n`);
    }
    for (const f of c.files) chunks.push(`M 100644 inline ${f.path}\ndata ${Buffer.byteLength(f.text)}\n${f.text}\n`);
    chunks.push('\n');
  }
  chunks.push('done\n');

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--quiet', '--initial-branch=main']);
  // Level 1 zlib: fast-import spends its time deflating trees and blobs; the pack stays small either way.
  git(dir, ['-c', 'core.compression=1', 'fast-import', '--quiet', '--done'], Buffer.from(chunks.join('')));
  git(dir, ['reset', '--quiet', '--hard', 'main']);
  const [mainSha, prSha] = git(dir, ['rev-parse', 'main', 'pr']).trim().split('\n') as [string, string];
  const files = git(dir, ['ls-tree', '-r', '--name-only', 'main']).trim().split('\n').length;
  return {
    dir,
    agents: n,
    files,
    commits: log.length - 1,
    main: mainSha,
    pr: prSha,
    prFile,
    prAgent: pr.agent.id,
    prChange: { tool: pr.tool, from: pr.from, to: pr.to },
  };
}
