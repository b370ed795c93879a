import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { spawnSync } from 'node:child_process';
import { actionGlobMatches, generateRepository } from '../bench/generate';
import { generateHistory } from '../bench/git-history';
import { validateRepository } from '../core/validate';

const tmp = mkdtempSync(join(tmpdir(), 'mandate-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return out;
}

type Doc = Record<string, unknown> & { kind: string; id?: string };
interface Permission {
  tool: string;
  actions: string[];
  resources?: string[];
}

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** FORMAT.md resource glob grammar: `**` only as a whole last segment, no empty list. */
function validResourceGlob(glob: string): boolean {
  const segments = glob.split('/');
  return segments.every((s, i) => s !== '' && (!s.includes('**') || (s === '**' && i === segments.length - 1)));
}

describe('bench repository generator', () => {
  const a = join(tmp, 'a');
  const b = join(tmp, 'b');
  const result = generateRepository(a, { agents: 20, seed: 7 });
  generateRepository(b, { agents: 20, seed: 7 });
  const files = tree(a);

  const docs: { file: string; doc: Doc }[] = [];
  const problems: string[] = [];
  for (const [file, text] of files) {
    for (const d of parseAllDocuments(text, { uniqueKeys: true })) {
      for (const e of [...d.errors, ...d.warnings]) problems.push(`${file}: ${e.message}`);
      docs.push({ file, doc: d.toJS() as Doc });
    }
  }
  const byKind = (kind: string): Doc[] => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  const ids = (kind: string): Set<string> => new Set(byKind(kind).map((d) => d.id as string));

  it('is byte-identical for one seed, and differs for another', () => {
    expect(tree(b)).toEqual(files);
    expect(result.files).toBe(files.size);
    const c = join(tmp, 'c');
    generateRepository(c, { agents: 20, seed: 8 });
    expect(tree(c)).not.toEqual(files);
  });

  it('parses as YAML without errors or warnings', () => {
    expect(problems).toEqual([]);
    expect(docs.length).toBeGreaterThan(files.size);
  });

  it('has the documented shape', () => {
    expect(byKind('Agent')).toHaveLength(20);
    expect(byKind('Tool')).toHaveLength(200);
    expect(byKind('DataClass')).toHaveLength(20);
    expect(byKind('Person')).toHaveLength(500);
    expect(byKind('Team')).toHaveLength(20);
    expect(byKind('Guardrail')).toHaveLength(10);
    expect(byKind('ApprovalRule')).toHaveLength(5);
    expect(byKind('Config')).toHaveLength(1);
    const mcp = byKind('Tool').filter((t) => t.type === 'mcp-server');
    expect(mcp).toHaveLength(20);
    for (const t of mcp) {
      expect(t.thirdParty).toBe(true);
      expect(typeof t.vendor).toBe('string');
      expect((t.vetting as { status: string }).status).toBe('approved');
    }
    for (const t of byKind('Tool')) expect(Object.keys(t.actions as object)).toHaveLength(10);
    for (const agent of byKind('Agent')) expect(agent.permissions as unknown[]).toHaveLength(20);
    for (const p of byKind('Person')) expect(typeof p.github).toBe('string');
    for (const { file, doc } of docs) {
      expect(doc.apiVersion, file).toBe('mandate/v1');
      if (doc.kind !== 'Config') expect(doc.id, file).toMatch(ID);
    }
    for (const kind of ['Agent', 'Tool', 'DataClass', 'Person', 'Team', 'Guardrail', 'ApprovalRule']) {
      expect(ids(kind).size, kind).toBe(byKind(kind).length);
    }
  });

  it('has no delegation cycles and chains of at most 3 agents', () => {
    const edges = new Map(byKind('Agent').map((x) => [x.id as string, (x.delegatesTo as string[] | undefined) ?? []]));
    expect([...edges.values()].filter((d) => d.length > 0)).toHaveLength(2); // 10% of 20
    const depth = (id: string, seen: Set<string>): number => {
      expect(seen.has(id), `cycle through ${id}`).toBe(false);
      const next = edges.get(id);
      expect(next, `unknown delegate ${id}`).toBeDefined();
      let deepest = 0;
      for (const d of next ?? []) deepest = Math.max(deepest, depth(d, new Set([...seen, id])));
      return 1 + deepest;
    };
    for (const [id, out] of edges) {
      expect(out.length).toBeLessThanOrEqual(2);
      expect(depth(id, new Set())).toBeLessThanOrEqual(3);
    }
  });

  it('references resolve and every action glob matches a declared action', () => {
    const actionsOf = new Map(byKind('Tool').map((t) => [t.id as string, Object.keys(t.actions as object)]));
    const people = ids('Person');
    const teams = ids('Team');
    const dataClasses = ids('DataClass');
    const guardrails = ids('Guardrail');
    for (const t of byKind('Tool')) {
      for (const a of Object.values(t.actions as Record<string, { data: string[] }>)) for (const d of a.data) expect(dataClasses.has(d)).toBe(true);
      if (t.vetting) expect(people.has((t.vetting as { reviewer: string }).reviewer)).toBe(true);
    }
    for (const team of byKind('Team')) for (const m of team.members as string[]) expect(people.has(m)).toBe(true);
    for (const g of byKind('Guardrail')) {
      const match = g.match as { tools?: string[]; actions?: string[]; dataClasses?: string[]; teams?: string[] };
      const selected = match.tools ?? [...actionsOf.keys()];
      for (const t of selected) expect(actionsOf.has(t), `${g.id}: tool ${t}`).toBe(true);
      for (const pattern of match.actions ?? []) {
        expect(selected.some((t) => actionsOf.get(t)?.some((name) => actionGlobMatches(pattern, name))), `${g.id}: ${pattern}`).toBe(true);
      }
      for (const d of match.dataClasses ?? []) expect(dataClasses.has(d)).toBe(true);
      for (const t of match.teams ?? []) expect(teams.has(t)).toBe(true);
    }
    for (const agent of byKind('Agent')) {
      expect(people.has(agent.owner as string)).toBe(true);
      expect(teams.has(agent.team as string)).toBe(true);
      const grants = [...(agent.permissions as Permission[]), ...((agent.deny as Permission[] | undefined) ?? [])];
      for (const p of grants) {
        const declared = actionsOf.get(p.tool);
        expect(declared, `${agent.id}: tool ${p.tool}`).toBeDefined();
        for (const pattern of p.actions) {
          expect(declared?.some((name) => actionGlobMatches(pattern, name)), `${agent.id}: ${p.tool} ${pattern}`).toBe(true);
        }
        if (p.resources !== undefined) {
          expect(p.resources.length).toBeGreaterThan(0);
          for (const r of p.resources) expect(validResourceGlob(r), r).toBe(true);
        }
      }
      for (const e of (agent.exceptions as { approvedBy: string; guardrail?: string }[] | undefined) ?? []) {
        expect(people.has(e.approvedBy)).toBe(true);
        if (e.guardrail) expect(guardrails.has(e.guardrail)).toBe(true);
      }
    }
  });

  it('matches action globs as FORMAT.md says', () => {
    expect(actionGlobMatches('tickets.*', 'tickets.comments.create')).toBe(true);
    expect(actionGlobMatches('*.read', 'orders.read')).toBe(true);
    expect(actionGlobMatches('*', 'orders.read')).toBe(true);
    expect(actionGlobMatches('orders.*', 'order.read')).toBe(false);
    expect(actionGlobMatches('a*a', 'a')).toBe(false);
    expect(actionGlobMatches('orders.read', 'orders.read')).toBe(true);
  });
});

describe('bench git history', () => {
  const git = (dir: string, ...args: string[]): string => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };

  it('ends main at the generated repository and changes one file on pr', () => {
    const dir = join(tmp, 'history');
    const h = generateHistory(dir, { agents: 30, commits: 40, seed: 3 });
    expect(h.commits).toBe(40);
    expect(git(dir, 'rev-list', '--count', 'main')).toBe('40');
    expect(git(dir, 'rev-parse', 'pr~1')).toBe(h.main);
    expect(git(dir, 'diff', '--name-only', 'main', 'pr')).toBe(h.prFile);
    const plain = join(tmp, 'history-plain');
    generateRepository(plain, { agents: 30, seed: 3 });
    const checkedOut = tree(dir);
    for (const k of [...checkedOut.keys()]) if (k.startsWith('.git')) checkedOut.delete(k);
    expect(checkedOut).toEqual(tree(plain));
    expect(h.files).toBe(checkedOut.size);
    // Every commit after the root touches a few agent files only.
    const touched = git(dir, 'log', '--format=%x00', '--name-only', 'main~38..main').split('\0').filter((c) => c.trim() !== '');
    expect(touched.length).toBe(38);
    for (const c of touched) {
      const paths = c.trim().split('\n');
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.length).toBeLessThanOrEqual(5);
      for (const p of paths) expect(p).toMatch(/^policies\/agents\/[a-z0-9-]+\.yaml$/);
    }
    // Same options, same commits.
    expect(generateHistory(join(tmp, 'history-2'), { agents: 30, commits: 40, seed: 3 }).pr).toBe(h.pr);
  });

  it('builds a 50-file repository by grouping the catalog, with the same catalog documents', async () => {
    const dir = join(tmp, 'history-50');
    const h = generateHistory(dir, { files: 50, commits: 5, seed: 3 });
    const files = [...tree(dir).keys()].filter((path) => !path.startsWith('.git'));
    expect(files).toHaveLength(50);
    expect(h.files).toBe(50);
    const grouped = await validateRepository(dir, { now: new Date('2026-12-01') });
    const perDocument = join(tmp, 'history-50-plain');
    generateRepository(perDocument, { agents: h.agents, seed: 3 });
    const plain = await validateRepository(perDocument, { now: new Date('2026-12-01') });
    for (const kind of ['tools', 'people', 'guardrails', 'dataClasses', 'teams', 'approvalRules'] as const) {
      expect([...grouped.snapshot.model[kind].keys()].sort()).toEqual([...plain.snapshot.model[kind].keys()].sort());
    }
    expect(grouped.snapshot.model.agents.size).toBe(h.agents);
  });
});
