import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFile } from '../core/validate';
import { BASE_FILES, ensureBuilt, removeRepo, runCli, snapshotOf, writeRepo } from './helpers/repo';

const POLICIES = join(import.meta.dirname, '..', 'policies');

function exampleTexts(): string[] {
  const texts: string[] = [];
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.yaml')) texts.push(readFileSync(path, 'utf8'));
    }
  };
  walk(POLICIES);
  return texts;
}

const SEEDS = [...exampleTexts(), ...Object.values(BASE_FILES)];
const YAML_PIECES = ['\n', ': ', '- ', '&a ', '*a', '<<: ', '!!', '!tag ', '[', ']', '{', '}', ',', '"', "'", '#', '---\n', '\t', '__proto__', '|', '>', '? ', '%YAML 1.1\n', '\u0000', '\uFEFF', 'ÿ', '1e309', '.nan', '0x1F', 'kind: Agent\n', 'apiVersion: mandate/v1\n'];

/** A mutation of a real governance file: pieces of YAML syntax spliced in, or lines dropped or repeated. */
const mutatedYaml = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...YAML_PIECES), fc.string({ maxLength: 8 }))), { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'repeat', 'indent')), { maxLength: 3 }),
  )
  .map(([seed, splices, lineEdits]) => {
    let text = seed;
    for (const [offset, piece] of splices) {
      const at = offset % (text.length + 1);
      text = text.slice(0, at) + piece + text.slice(at);
    }
    const lines = text.split('\n');
    for (const [index, edit] of lineEdits) {
      const at = index % Math.max(1, lines.length);
      if (edit === 'drop') lines.splice(at, 1);
      else if (edit === 'repeat') lines.splice(at, 0, lines[at] ?? '');
      else lines[at] = `  ${lines[at] ?? ''}`;
    }
    return lines.join('\n');
  });

const anyBytes = fc.uint8Array({ maxLength: 400 });

function checkWellFormed(findings: { line: number; column: number; message: string; rule: string }[]): void {
  for (const finding of findings) {
    expect(finding.line).toBeGreaterThanOrEqual(1);
    expect(finding.column).toBeGreaterThanOrEqual(1);
    expect(finding.message.length).toBeGreaterThan(0);
    expect(finding.message).not.toMatch(/\n\s+at /);
  }
}

describe('the loader never crashes', () => {
  it('on mutated governance files', () => {
    fc.assert(
      fc.property(mutatedYaml, (text) => {
        const loaded = loadFile('policies/fuzz.yaml', new TextEncoder().encode(text), 'roots');
        checkWellFormed(loaded.findings);
      }),
      { numRuns: 400 },
    );
  });
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        checkWellFormed(loadFile('policies/fuzz.yaml', bytes, 'roots').findings);
      }),
      { numRuns: 400 },
    );
  });
  it('through the whole pipeline, model and rules included', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedYaml, fc.constantFrom(...Object.keys(BASE_FILES)), async (text, path) => {
        const started = Date.now();
        const snapshot = await snapshotOf({ [path]: text });
        expect(Date.now() - started).toBeLessThan(2000);
        checkWellFormed(snapshot.findings);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the CLI on mutated repositories', () => {
  beforeAll(ensureBuilt);
  it('exits 0, 1 or 2 with JSON on stdout and never a stack trace', () => {
    const samples = fc.sample(mutatedYaml, { numRuns: 12, seed: 42 });
    for (const text of samples) {
      const repo = writeRepo({ ...BASE_FILES, 'policies/agents/triage.yaml': text });
      try {
        const { stdout, stderr, status } = runCli(['validate', '--repo', repo, '--format', 'json']);
        expect([0, 1]).toContain(status);
        expect(stderr).toBe('');
        expect(JSON.parse(stdout)).toHaveProperty('apiVersion', 'mandate/v1');
      } finally {
        removeRepo(repo);
      }
    }
  }, 120_000);
});
