import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFile } from '../core/validate';
import { parseGovernanceFile } from '../core/yaml-safe';
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

describe('positions', () => {
  const text = [
    'a:', //                line 1
    '  - x', //             line 2
    '  - y', //             line 3
    'b:', //                line 4
    '  c: [p, q]', //       line 5
    '  "10": ten', //       line 6 (integer-like key: property order differs from source order)
    '  d: {e: 1}', //       line 7
    '',
  ].join('\n');
  const document = (): ReturnType<typeof loadFile>['accepted'][number] => {
    const parsed = parseGovernanceFile('p.yaml', new TextEncoder().encode(text));
    expect(parsed.findings).toEqual([]);
    return parsed.documents[0]!;
  };

  it('finds every node, keys and values, lists and maps', () => {
    const at = (path: (string | number)[], part?: 'key' | 'value') => {
      const { line, column } = document().position(path, part);
      return `${line}:${column}`;
    };
    expect(at(['a', 1])).toBe('3:5');
    expect(at(['b', 'c', 1])).toBe('5:10');
    expect(at(['b', 'c'], 'key')).toBe('5:3');
    expect(at(['b', '10'])).toBe('6:9');
    expect(at(['b', 'd', 'e'])).toBe('7:10');
    expect(at(['b', 'd'], 'key')).toBe('7:3');
  });

  it('stops at the nearest existing ancestor for a path that runs off a list or map', () => {
    const doc = document();
    // Index 2 of a 2-item list must not read the offsets of the container stored after it.
    expect(doc.position(['a', 2])).toEqual(doc.position(['a']));
    expect(doc.position(['a', -1])).toEqual(doc.position(['a']));
    expect(doc.position(['a', 0.5])).toEqual(doc.position(['a']));
    expect(doc.position(['b', 'missing', 0])).toEqual(doc.position(['b']));
    expect(doc.position(['b', 'c', 5])).toEqual(doc.position(['b', 'c']));
  });
});
