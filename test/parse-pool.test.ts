import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParsePool } from '../cli/parse-pool';
import { fileSystemTree } from '../core/fs-tree';
import type { LoadOptions, Snapshot } from '../core/validate';
import { loadSnapshot } from '../core/validate';
import { BASE_FILES, PARSE_WORKER, ensureBuilt, removeRepo, writeRepo } from './helpers/repo';

const NOW = new Date('2026-11-26T00:00:00Z');
const EXAMPLE = join(import.meta.dirname, '..');

// Files that give findings from the parser and the schema check, so both cross the thread boundary.
const FAULTY: Record<string, string> = {
  ...BASE_FILES,
  'policies/broken.yaml': 'kind: Agent\nid: [unclosed\n',
  'policies/dup.yaml': 'apiVersion: mandate/v1\nkind: Team\nid: dup\nmembers: []\nmembers: []\n',
  'policies/bad-shape.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: x\nname: 5\nsurprise: true\n',
  'policies/secret.yaml': `apiVersion: mandate/v1\nkind: Person\nid: leaky\nname: Leaky\nnote: ghp_${'a1B2c3D4e5'.repeat(4)}\n`,
};

/** What a user sees of a snapshot: findings with positions, the model's agents and capabilities. */
function visible(snapshot: Snapshot): unknown {
  const positions = [...snapshot.model.agents.values()].map(({ source }) => [source.position(['permissions', 0]), source.position(['owner'], 'key')]);
  return { findings: snapshot.findings, agents: [...snapshot.model.agents.keys()], capabilities: snapshot.capabilities, grants: snapshot.model.grants, positions };
}

async function load(dir: string, options: LoadOptions = {}): Promise<Snapshot> {
  return loadSnapshot(fileSystemTree(dir), { now: NOW, ...options });
}

describe('parse pool', () => {
  let faulty: string;
  beforeAll(() => {
    ensureBuilt();
    faulty = writeRepo(FAULTY);
  });
  afterAll(() => removeRepo(faulty));

  it('gives the same snapshot as parsing in one thread, with workers parsing most files', async () => {
    for (const dir of [EXAMPLE, faulty]) {
      const pool = new ParsePool(pathToFileURL(PARSE_WORKER), { workers: 2, inThreadBytes: 0, batchBytes: 1024 });
      const pooled = await load(dir, { loader: pool.load });
      expect(visible(pooled)).toEqual(visible(await load(dir)));
      expect(pool.parsed.onWorkers).toBeGreaterThan(0);
      expect(pool.parsed.onWorkers + pool.parsed.here).toBe(pooled.files.length);
    }
  });

  it('stops idle workers and starts new ones for a later load', async () => {
    const pool = new ParsePool(pathToFileURL(PARSE_WORKER), { workers: 2, inThreadBytes: 0, batchBytes: 1024 });
    const first = await load(EXAMPLE, { loader: pool.load });
    const afterFirst = pool.parsed.onWorkers;
    expect(afterFirst).toBeGreaterThan(0);
    expect(pool.runningWorkers).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pool.runningWorkers).toBe(0);
    const second = await load(EXAMPLE, { loader: pool.load });
    expect(pool.parsed.onWorkers).toBeGreaterThan(afterFirst);
    expect(visible(second)).toEqual(visible(first));
  });

  it('keeps every finding of faulty files at its line and column', async () => {
    const pool = new ParsePool(pathToFileURL(PARSE_WORKER), { workers: 1, inThreadBytes: 0, batchBytes: 1 });
    const { findings } = await load(faulty, { loader: pool.load });
    const at = (rule: string) => findings.filter((finding) => finding.rule === rule).map(({ file, line, column }) => `${file}:${line}:${column}`);
    expect(at('duplicate-key')).toEqual(['policies/dup.yaml:5:1']);
    expect(at('secret-in-policy')).toEqual(['policies/secret.yaml:5:7']);
    expect(at('yaml-syntax').length).toBeGreaterThan(0);
    expect(findings.some((finding) => finding.file === 'policies/bad-shape.yaml' && finding.rule === 'schema')).toBe(true);
  });

  it('parses files below the threshold in this thread without starting a worker', async () => {
    const pool = new ParsePool(pathToFileURL(PARSE_WORKER), { workers: 2 });
    const snapshot = await load(EXAMPLE, { loader: pool.load });
    expect(pool.parsed).toEqual({ here: snapshot.files.length, onWorkers: 0 });
  });

  it('finishes the load in this thread when a worker cannot start or dies', async () => {
    const dying = join(faulty, 'dying-worker.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    const expected = visible(await load(faulty));
    for (const url of [pathToFileURL(join(faulty, 'no-such-worker.mjs')), pathToFileURL(dying)]) {
      const pool = new ParsePool(url, { workers: 2, inThreadBytes: 0, batchBytes: 1 });
      const snapshot = await load(faulty, { loader: pool.load });
      expect(visible(snapshot)).toEqual(expected);
      expect(pool.parsed).toEqual({ here: snapshot.files.length, onWorkers: 0 });
    }
  });
});
