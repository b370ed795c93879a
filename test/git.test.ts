import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitBlobId } from '../core/fs-tree';
import type { Repository } from '../core/git';
import {
  GitError,
  GitRefError,
  NoMergeBaseError,
  NotARepositoryError,
  ShallowCloneError,
  defaultBaseRef,
  mergeBase,
  objectHeader,
  openRepository,
  readCommitInfo,
  resolveRef,
} from '../core/git';
import { changedPaths, commitTree } from '../core/git-tree';
import type { SourceTree } from '../core/source-tree';
import type { LoadedFile } from '../core/validate';
import { loadSnapshot } from '../core/validate';
import { BASE_FILES, FIXTURE_NOW } from './helpers/repo';
import { commit, git, gitEnv, rejection, tick } from './helpers/git';

// ------------------------------------------------------------ fixtures

const scratch = mkdtempSync(join(tmpdir(), 'mandate-git-'));

function gitInput(cwd: string, input: string | Uint8Array, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv(), input, encoding: 'utf8' }).trim();
}

function newRepo(name: string, branch = 'main'): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', branch);
  return dir;
}

function revParse(dir: string, revision: string): string {
  return git(dir, 'rev-parse', '--verify', '--quiet', `${revision}^{commit}`);
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// ------------------------------------------------------------ the main fixture

const MANDATE = 'apiVersion: mandate/v1\nkind: Config\nroots: [policies]\ndefaultBranch: main\n';
const BINARY = Uint8Array.from({ length: 256 }, (_, index) => index);

let main: string;
const c: Record<string, string> = {};

beforeAll(() => {
  main = newRepo('main');
  c.one = commit(main, 'one', { ...BASE_FILES, 'mandate.yaml': MANDATE, 'README.md': 'hello\n', 'policies/notes.txt': 'not yaml\n' });
  git(main, 'tag', 'v1');
  c.two = commit(main, 'two', { 'policies/teams.yaml': `${BASE_FILES['policies/teams.yaml']}# edited\n` });
  git(main, 'tag', '-a', 'v2', '-m', 'release 2');
  git(main, 'tag', '-a', 'v2-again', '-m', 'tag of a tag', 'v2');
  git(main, 'branch', 'feature');
  c.three = commit(main, 'three', { 'policies/extra.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: carol\nname: Carol\n' });
  c.four = commit(main, 'four', { 'policies/tools/zendesk.yaml': `${BASE_FILES['policies/tools/zendesk.yaml']}# four\n` });
  git(main, 'checkout', '-q', 'feature');
  c.f1 = commit(main, 'f1', { 'policies/agents/triage.yaml': `${BASE_FILES['policies/agents/triage.yaml']}# f1\n` });
  git(main, 'mv', 'policies/data.yaml', 'policies/data-classes.yaml');
  c.f2 = commit(main, 'f2 rename');
  symlinkSync('people.yaml', join(main, 'policies/link.yaml'));
  c.f3 = commit(main, 'f3 odd files', {
    'policies/binary.yaml': BINARY,
    'policies/dir.yaml/inner.yaml': 'a: 1\n',
    'policies/node_modules/skipped.yaml': 'a: 1\n',
    'policies/deep/er/x.yml': 'a: 1\n',
  });
  // A submodule entry (gitlink) named like a governance file.
  git(main, 'update-index', '--add', '--cacheinfo', `160000,${c.one},policies/sub.yaml`);
  tick();
  git(main, 'commit', '-q', '-m', 'f4 gitlink'); // not commit(): `git add -A` would drop the gitlink
  c.f4 = git(main, 'rev-parse', 'HEAD');
  git(main, 'checkout', '-q', 'main');
});

// ------------------------------------------------------------ openRepository

describe('openRepository', () => {
  it('opens a work tree and shares one cache', async () => {
    const repo = await openRepository(main);
    expect(repo.dir).toBe(main);
    expect(repo.gitdir).toBe(join(main, '.git'));
    expect(repo.prefix).toBe('');
    expect(typeof repo.cache).toBe('object');
  });

  it('rejects a directory outside any repository with a typed error', async () => {
    const plain = join(scratch, 'plain');
    mkdirSync(plain, { recursive: true });
    const error = await rejection(openRepository(plain));
    expect(error).toBeInstanceOf(NotARepositoryError);
    expect(error).toBeInstanceOf(GitError);
    expect(error.message).toBe(`not a git repository: ${plain}`);
    const missing = await rejection(openRepository(join(scratch, 'does-not-exist')));
    expect(missing).toBeInstanceOf(NotARepositoryError);
  });

  it('opened in a subdirectory, reads commit trees relative to it', async () => {
    const mono = newRepo('mono');
    const head = commit(mono, 'nested', { 'gov/mandate.yaml': MANDATE, 'gov/policies/a.yaml': 'a: 1\n', 'other/policies/b.yaml': 'b: 1\n' });
    const repo = await openRepository(join(mono, 'gov'));
    expect(repo.dir).toBe(mono);
    expect(repo.prefix).toBe('gov');
    const tree = commitTree(repo, head);
    const listed = await tree.listGovernanceFiles(['policies']);
    expect(listed.entries.map((entry) => entry.path)).toEqual(['policies/a.yaml']);
    const config = await tree.readFile('mandate.yaml', 1024);
    expect(config.status).toBe('ok');
  });

  it('works in a linked worktree with a detached HEAD', async () => {
    const worktree = join(scratch, 'worktree');
    git(main, 'worktree', 'add', '-q', '--detach', worktree, 'feature~1');
    const repo = await openRepository(worktree);
    expect(repo.gitdir).toBe(join(main, '.git'));
    expect(await resolveRef(repo, 'HEAD')).toBe(c.f3);
    expect(await resolveRef(repo, 'main')).toBe(c.four);
    git(main, 'worktree', 'remove', '--force', worktree);
  });
});

// ------------------------------------------------------------ resolveRef

describe('resolveRef', () => {
  let repo: Repository;
  beforeAll(async () => {
    repo = await openRepository(main);
  });

  it.each([
    'main',
    'feature',
    'refs/heads/feature',
    'heads/feature',
    'v1',
    'v2',
    'v2-again',
    'tags/v2',
    'HEAD',
    '@',
    'HEAD~2',
    'HEAD~',
    'HEAD^',
    'HEAD^1',
    'HEAD^^',
    'HEAD~1^',
    'main~3',
    'feature~2',
    'v2~1',
    'v2^{}',
    'v2^{commit}',
    'feature^0',
  ])('resolves %s like git rev-parse', async (revision) => {
    expect(await resolveRef(repo, revision)).toBe(revParse(main, revision));
  });

  it('peels annotated tags (and tags of tags) to the commit', async () => {
    const tagObject = git(main, 'rev-parse', 'v2');
    expect(tagObject).not.toBe(c.two);
    expect(await resolveRef(repo, 'v2')).toBe(c.two);
    expect(await resolveRef(repo, 'v2-again')).toBe(c.two);
    expect(await resolveRef(repo, tagObject)).toBe(c.two);
  });

  it('accepts full and short SHAs, in either case', async () => {
    expect(await resolveRef(repo, c.three!)).toBe(c.three);
    expect(await resolveRef(repo, c.three!.toUpperCase())).toBe(c.three);
    expect(await resolveRef(repo, c.three!.slice(0, 7))).toBe(c.three);
    expect(await resolveRef(repo, `${c.three!.slice(0, 10)}~1`)).toBe(c.two);
  });

  it('names the ref it does not know', async () => {
    for (const revision of ['nope', 'origin/nope', 'main~9', 'HEAD^2', '../../etc/passwd', 'main:file', 'main^{tree}', '0123456789abcdef0123456789abcdef01234567', 'ffff']) {
      const error = await rejection(resolveRef(repo, revision));
      expect(error, revision).toBeInstanceOf(GitRefError);
      expect(error.message, revision).toContain(`'${revision}'`);
      expect((error as GitRefError).ref).toBe(revision);
    }
    expect((await rejection(resolveRef(repo, 'nope'))).message).toBe("unknown git ref 'nope'");
  });

  it('refuses a SHA naming a tree or a blob', async () => {
    const blob = git(main, 'rev-parse', 'main:mandate.yaml');
    const error = await rejection(resolveRef(repo, blob));
    expect(error).toBeInstanceOf(GitRefError);
    expect(error.message).toContain('names a blob, not a commit');
  });

  it('resolves remote-tracking branches (origin/main) and FETCH_HEAD', async () => {
    const clone = join(scratch, 'clone-refs');
    git(scratch, 'clone', '-q', main, clone);
    git(clone, 'fetch', '-q', 'origin', 'feature');
    const cloned = await openRepository(clone);
    expect(await resolveRef(cloned, 'origin/main')).toBe(c.four);
    expect(await resolveRef(cloned, 'origin/feature~1')).toBe(c.f3);
    expect(await resolveRef(cloned, 'remotes/origin/feature')).toBe(c.f4);
    expect(await resolveRef(cloned, 'FETCH_HEAD')).toBe(c.f4);
    git(clone, 'pack-refs', '--all');
    const packed = await openRepository(clone);
    expect(await resolveRef(packed, 'origin/feature')).toBe(c.f4);
    expect(await resolveRef(packed, 'v2')).toBe(c.two);
  });

  it('disambiguates a short SHA to the one commit, and rejects an ambiguous one', async () => {
    const repository = newRepo('ambiguous');
    const head = commit(repository, 'only', { 'a.txt': 'a\n' });
    const prefix = head.slice(0, 4);
    // A blob whose id shares the commit's first four digits: 'ab12' still names the commit.
    let n = 0;
    while (!gitBlobId(Buffer.from(`x${n}`)).startsWith(prefix)) n++;
    expect(gitInput(repository, `x${n}`, 'hash-object', '-w', '--stdin')).toMatch(new RegExp(`^${prefix}`));
    const opened = await openRepository(repository);
    expect(await resolveRef(opened, prefix)).toBe(head);
    // Two blobs sharing four digits and no commit: ambiguous.
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let k = 0; !pair; k++) {
      const content = `y${k}`;
      const id = gitBlobId(Buffer.from(content)).slice(0, 4);
      if (id !== prefix && seen.has(id)) pair = [seen.get(id)!, content];
      else seen.set(id, content);
    }
    for (const content of pair) gitInput(repository, content, 'hash-object', '-w', '--stdin');
    const shared = gitBlobId(Buffer.from(pair[0])).slice(0, 4);
    const error = await rejection(resolveRef(await openRepository(repository), shared));
    expect(error).toBeInstanceOf(GitRefError);
    expect(error.message).toContain('ambiguous');
  });

  it('says when HEAD has no commits yet', async () => {
    const empty = newRepo('empty');
    const error = await rejection(resolveRef(await openRepository(empty), 'HEAD'));
    expect(error).toBeInstanceOf(GitRefError);
    expect(error.message).toContain('no commits yet');
  });
});

// ------------------------------------------------------------ commitTree

describe('commitTree', () => {
  let repo: Repository;
  beforeAll(async () => {
    repo = await openRepository(main);
  });

  it('lists governance files under the roots with their blob ids, like git ls-tree', async () => {
    const tree = commitTree(repo, c.one!);
    const { entries, missingRoots } = await tree.listGovernanceFiles(['policies/', 'controls']);
    expect(missingRoots).toEqual(['controls']);
    const expected = Object.keys(BASE_FILES).sort();
    expect(entries.map((entry) => entry.path)).toEqual(expected);
    for (const entry of entries) {
      expect(entry.type).toBe('file');
      expect(entry.id).toBe(git(main, 'rev-parse', `${c.one}:${entry.path}`));
    }
  });

  it('reports symlinks, gitlinks and directories named like files, never following them', async () => {
    const tree = commitTree(repo, c.f4!);
    const { entries } = await tree.listGovernanceFiles(['policies']);
    const byPath = Object.fromEntries(entries.map((entry) => [entry.path, entry.type]));
    expect(byPath).toMatchObject({
      'policies/link.yaml': 'symlink',
      'policies/sub.yaml': 'other',
      'policies/dir.yaml': 'other',
      'policies/binary.yaml': 'file',
      'policies/deep/er/x.yml': 'file',
      'policies/data-classes.yaml': 'file',
    });
    expect(byPath['policies/node_modules/skipped.yaml']).toBeUndefined();
    expect(byPath['policies/dir.yaml/inner.yaml']).toBeUndefined();
    expect(byPath['policies/notes.txt']).toBeUndefined();
    expect(entries.map((entry) => entry.path)).toEqual(entries.map((entry) => entry.path).sort());
    expect(await tree.readFile('policies/link.yaml', 1024)).toEqual({ status: 'unreadable', reason: 'it is a symlink (never followed)' });
    expect((await tree.readFile('policies/sub.yaml', 1024)).status).toBe('unreadable');
    expect((await tree.readFile('policies/dir.yaml', 1024)).status).toBe('unreadable');
  });

  it('reads bytes exactly (binary too), with the blob id, and mandate.yaml at the root', async () => {
    const tree = commitTree(repo, c.f4!);
    const binary = await tree.readFile('policies/binary.yaml', 1024);
    expect(binary.status).toBe('ok');
    if (binary.status !== 'ok') return;
    expect([...binary.bytes]).toEqual([...BINARY]);
    expect(binary.id).toBe(gitBlobId(BINARY));
    const config = await tree.readFile('mandate.yaml', 1024);
    expect(config.status === 'ok' && Buffer.from(config.bytes).toString()).toBe(MANDATE);
    expect(await tree.readFile('policies/absent.yaml', 1024)).toEqual({ status: 'missing' });
    expect(await tree.readFile('README.md/x.yaml', 1024)).toEqual({ status: 'missing' });
  });

  it('refuses a blob over maxBytes from its header, loose, packed and deltified', async () => {
    const big = newRepo('big');
    const line = 'key: value that repeats to make the file large\n';
    const first = line.repeat(2000);
    commit(big, 'big', { 'policies/big.yaml': first, 'policies/small.yaml': 'a: 1\n' });
    const second = commit(big, 'bigger', { 'policies/big.yaml': `${first}extra: line\n` });
    const check = async (): Promise<void> => {
      const repository = await openRepository(big);
      const tree = commitTree(repository, second);
      const size = first.length + 'extra: line\n'.length;
      expect(await tree.readFile('policies/big.yaml', 1024)).toEqual({ status: 'too-large', size });
      expect((await tree.readFile('policies/big.yaml', size)).status).toBe('ok');
      expect((await tree.readFile('policies/small.yaml', 1024)).status).toBe('ok');
      for (const revision of [`${second}:policies/big.yaml`, `${second}~1:policies/big.yaml`, `${second}:policies/small.yaml`, second, `${second}^{tree}`]) {
        const oid = git(big, 'rev-parse', revision);
        const header = await objectHeader(repository, oid);
        expect(header?.size, revision).toBe(Number(git(big, 'cat-file', '-s', oid)));
      }
    };
    await check(); // loose objects
    git(big, 'repack', '-adq', '--depth=10', '--window=10');
    const packs = join(big, '.git/objects/pack');
    const verify = git(big, 'verify-pack', '-v', ...readdirSync(packs).filter((file) => file.endsWith('.idx')).map((file) => join(packs, file)));
    expect(verify).toMatch(/ blob +\d+ \d+ \d+ 1 [0-9a-f]{40}/); // one blob is a delta
    await check(); // packed, one of them as a delta
  });
});

// ------------------------------------------------------------ changedPaths and the shared parse cache

describe('changedPaths', () => {
  it('finds added, removed and modified files; a rename is a removal and an addition', async () => {
    const repo = await openRepository(main);
    expect(await changedPaths(repo, c.one!, c.three!, ['policies', 'controls', 'mandate.yaml'])).toEqual({
      added: ['policies/extra.yaml'],
      removed: [],
      modified: ['policies/teams.yaml'],
    });
    expect(await changedPaths(repo, c.two!, c.f2!, ['policies'])).toEqual({
      added: ['policies/data-classes.yaml'],
      removed: ['policies/data.yaml'],
      modified: ['policies/agents/triage.yaml'],
    });
    const odd = await changedPaths(repo, c.f2!, c.f4!, ['policies']);
    expect(odd.added).toEqual(['policies/binary.yaml', 'policies/deep/er/x.yml', 'policies/dir.yaml', 'policies/link.yaml', 'policies/sub.yaml']);
    expect(await changedPaths(repo, c.f4!, c.f2!, ['policies'])).toEqual({ added: [], removed: odd.added, modified: [] });
    expect(await changedPaths(repo, c.one!, c.one!, ['policies'])).toEqual({ added: [], removed: [], modified: [] });
  });

  it('skips subtrees whose ids are equal on both sides', async () => {
    const repo = await openRepository(main);
    await changedPaths(repo, c.two!, c.three!, ['policies']);
    const agents = git(main, 'rev-parse', `${c.three}:policies/agents`);
    const tools = git(main, 'rev-parse', `${c.three}:policies/tools`);
    expect(repo.memo.trees.has(agents)).toBe(false);
    expect(repo.memo.trees.has(tools)).toBe(false);
    expect(repo.memo.trees.has(git(main, 'rev-parse', `${c.three}:policies`))).toBe(true);
  });

  it('loadSnapshot over base and head with one cache parses each unchanged blob once', async () => {
    const repo = await openRepository(main);
    const reads: string[] = [];
    const counting = (tree: SourceTree): SourceTree => ({
      listGovernanceFiles: (roots) => tree.listGovernanceFiles(roots),
      readFile: (path, maxBytes) => {
        reads.push(path);
        return tree.readFile(path, maxBytes);
      },
    });
    const cache = new Map<string, LoadedFile>();
    const base = await loadSnapshot(counting(commitTree(repo, c.one!)), { cache, now: FIXTURE_NOW });
    expect(reads.sort()).toEqual(['mandate.yaml', ...Object.keys(BASE_FILES)].sort());
    // Every governance file and mandate.yaml, each parsed once.
    expect(cache.size).toBe(Object.keys(BASE_FILES).length + 1);
    reads.length = 0;
    const head = await loadSnapshot(counting(commitTree(repo, c.three!)), { cache, now: FIXTURE_NOW });
    const changed = await changedPaths(repo, c.one!, c.three!, ['policies']);
    expect(reads.sort()).toEqual(['mandate.yaml', ...changed.added, ...changed.modified].sort());
    expect(cache.size).toBe(Object.keys(BASE_FILES).length + 1 + changed.added.length + changed.modified.length);
    expect(head.files).toContain('policies/extra.yaml');
    expect(base.files).not.toContain('policies/extra.yaml');
    expect(head.model.people.has('carol')).toBe(true);
  });
});

// ------------------------------------------------------------ merge base and shallow clones

describe('mergeBase', () => {
  let source: string;
  const s: Record<string, string> = {};

  beforeAll(() => {
    source = newRepo('source');
    s.m1 = commit(source, 'm1', { 'policies/a.yaml': 'a: 1\n' });
    s.m2 = commit(source, 'm2', { 'policies/a.yaml': 'a: 2\n' });
    git(source, 'checkout', '-q', '-b', 'topic');
    s.t1 = commit(source, 't1', { 'policies/t.yaml': 't: 1\n' });
    s.t2 = commit(source, 't2', { 'policies/t.yaml': 't: 2\n' });
    s.t3 = commit(source, 't3', { 'policies/t.yaml': 't: 3\n' });
    git(source, 'checkout', '-q', 'main');
    s.m3 = commit(source, 'm3', { 'policies/a.yaml': 'a: 3\n' });
    s.m4 = commit(source, 'm4', { 'policies/a.yaml': 'a: 4\n' });
    s.m5 = commit(source, 'm5', { 'policies/a.yaml': 'a: 5\n' });
    // The pull request's test merge commit: first parent main, second the topic.
    git(source, 'checkout', '-q', '--detach', 'main');
    tick();
    git(source, 'merge', '-q', '--no-ff', '-m', 'merge topic', 'topic');
    s.merge = git(source, 'rev-parse', 'HEAD');
    git(source, 'branch', 'pr-merge');
    git(source, 'checkout', '-q', 'main');
  });

  it('matches git merge-base in a full clone', async () => {
    const repo = await openRepository(source);
    expect(await mergeBase(repo, s.m5!, s.t3!)).toBe(s.m2);
    expect(await mergeBase(repo, s.t3!, s.m5!)).toBe(s.m2);
    expect(await mergeBase(repo, s.m2!, s.m5!)).toBe(s.m2);
    expect(await mergeBase(repo, s.m5!, s.m2!)).toBe(s.m2);
    expect(await mergeBase(repo, s.m5!, s.m5!)).toBe(s.m5);
    expect(await mergeBase(repo, s.m5!, s.merge!)).toBe(s.m5);
    expect(await mergeBase(repo, s.t3!, s.merge!)).toBe(s.t3);
    expect(await mergeBase(repo, s.m1!, s.merge!)).toBe(s.m1);
  });

  it('picks one of the merge bases of a criss-cross history', async () => {
    const cross = newRepo('criss-cross');
    commit(cross, 'root', { 'x.yaml': 'x: 0\n' });
    git(cross, 'branch', 'side');
    commit(cross, 'main 1', { 'm.yaml': 'm: 1\n' });
    git(cross, 'checkout', '-q', 'side');
    commit(cross, 'side 1', { 's.yaml': 's: 1\n' });
    const side1 = git(cross, 'rev-parse', 'HEAD');
    git(cross, 'checkout', '-q', 'main');
    const main1 = git(cross, 'rev-parse', 'HEAD');
    tick();
    git(cross, 'merge', '-q', '--no-ff', '-m', 'main merges side', side1);
    git(cross, 'checkout', '-q', 'side');
    tick();
    git(cross, 'merge', '-q', '--no-ff', '-m', 'side merges main', main1);
    const all = git(cross, 'merge-base', '--all', 'main', 'side').split('\n');
    expect(all).toHaveLength(2);
    const repo = await openRepository(cross);
    expect(all).toContain(await mergeBase(repo, await resolveRef(repo, 'main'), await resolveRef(repo, 'side')));
  });

  it('reports unrelated histories', async () => {
    const repo = await openRepository(source);
    git(source, 'checkout', '-q', '--orphan', 'unrelated');
    const orphan = commit(source, 'orphan', { 'o.yaml': 'o: 1\n' });
    git(source, 'checkout', '-q', '-f', 'main');
    const error = await rejection(mergeBase(repo, s.m5!, orphan, { names: ['main', 'unrelated'] }));
    expect(error).toBeInstanceOf(NoMergeBaseError);
    expect(error.message).toBe('main and unrelated have no common history (no merge base)');
  });

  it('works in a depth-2 clone when the base is the head\'s parent', async () => {
    const shallow = join(scratch, 'shallow-linear');
    git(scratch, 'clone', '-q', '--depth', '2', `file://${source}`, shallow);
    const repo = await openRepository(shallow);
    const head = await resolveRef(repo, 'HEAD');
    const parent = await resolveRef(repo, 'HEAD~1');
    expect([head, parent]).toEqual([s.m5, s.m4]);
    expect(await mergeBase(repo, parent, head)).toBe(s.m4);
    expect(await mergeBase(repo, head, parent)).toBe(s.m4);
    // Both sides' trees are readable.
    expect(await changedPaths(repo, parent, head, ['policies'])).toEqual({ added: [], removed: [], modified: ['policies/a.yaml'] });
    const error = await rejection(resolveRef(repo, 'HEAD~3'));
    expect(error).toBeInstanceOf(ShallowCloneError);
    expect(error.message).toContain("'HEAD~3' goes back past the history of this shallow clone");
    expect(error.message).toContain('git fetch --deepen=2');
  });

  it('works in a depth-2 clone of a test merge commit, for either parent', async () => {
    const shallow = join(scratch, 'shallow-merge');
    git(scratch, 'clone', '-q', '--depth', '2', '--branch', 'pr-merge', `file://${source}`, shallow);
    const repo = await openRepository(shallow);
    const head = await resolveRef(repo, 'HEAD');
    expect(head).toBe(s.merge);
    expect(await resolveRef(repo, 'HEAD^1')).toBe(s.m5);
    expect(await mergeBase(repo, await resolveRef(repo, 'HEAD^1'), head)).toBe(s.m5);
    expect(await mergeBase(repo, await resolveRef(repo, 'HEAD^2'), head)).toBe(s.t3);
  });

  it('says how to deepen a shallow clone missing the merge base', async () => {
    const shallow = join(scratch, 'shallow-diverged');
    git(scratch, 'clone', '-q', '--depth', '2', '--no-single-branch', `file://${source}`, shallow);
    const repo = await openRepository(shallow);
    const base = await resolveRef(repo, 'origin/main');
    const head = await resolveRef(repo, 'origin/topic');
    const error = await rejection(mergeBase(repo, base, head, { names: ['origin/main', 'origin/topic'] }));
    expect(error).toBeInstanceOf(ShallowCloneError);
    expect(error.message).toMatch(
      /^the merge base of origin\/main and origin\/topic is not in this shallow clone; fetch more history, e.g\. git fetch --deepen=\d+ or --unshallow$/,
    );
    const deepen = (error as ShallowCloneError).suggestedDeepen;
    expect(deepen).toBeGreaterThanOrEqual(2);
    // Following the advice fixes it.
    git(shallow, 'fetch', '-q', `--deepen=${deepen}`);
    expect(await mergeBase(await openRepository(shallow), base, head)).toBe(s.m2);
  });

  it('a full SHA missing from a shallow clone is an unknown ref with a hint', async () => {
    const shallow = join(scratch, 'shallow-linear');
    const error = await rejection(resolveRef(await openRepository(shallow), s.m1!));
    expect(error).toBeInstanceOf(GitRefError);
    expect(error.message).toContain('shallow clone');
  });

  it('remembers commits it has read', async () => {
    const repo = await openRepository(source);
    const info = await readCommitInfo(repo, s.merge!);
    expect(info.parents).toEqual([s.m5, s.t3]);
    expect(info.tree).toBe(git(source, 'rev-parse', `${s.merge}^{tree}`));
    expect(repo.memo.commits.has(s.merge!)).toBe(true);
  });
});

// ------------------------------------------------------------ default branch

describe('defaultBaseRef', () => {
  it('prefers the configured branch, also as origin/NAME', async () => {
    const repo = await openRepository(main);
    expect(await defaultBaseRef(repo, 'feature')).toEqual({ ref: 'feature', sha: c.f4 });
    const error = await rejection(defaultBaseRef(repo, 'release'));
    expect(error).toBeInstanceOf(GitRefError);
    expect(error.message).toContain("'release'");
    expect(error.message).toContain('--base');
  });

  it('takes main before master', async () => {
    const both = newRepo('both', 'master');
    const master = commit(both, 'm');
    git(both, 'branch', 'main');
    git(both, 'checkout', '-q', 'main');
    const mainSha = commit(both, 'on main');
    const repo = await openRepository(both);
    expect(await defaultBaseRef(repo)).toEqual({ ref: 'main', sha: mainSha });
    git(both, 'checkout', '-q', 'master');
    git(both, 'branch', '-D', 'main');
    expect(await defaultBaseRef(await openRepository(both))).toEqual({ ref: 'master', sha: master });
  });

  it('follows origin/HEAD before main, and finds origin/main without a local branch', async () => {
    const upstream = newRepo('upstream', 'trunk');
    const trunk = commit(upstream, 'trunk');
    git(upstream, 'branch', 'main');
    const downstream = join(scratch, 'downstream');
    git(scratch, 'clone', '-q', upstream, downstream);
    git(downstream, 'branch', 'main', 'origin/main');
    expect(await defaultBaseRef(await openRepository(downstream))).toEqual({ ref: 'origin/trunk', sha: trunk });
    // A CI checkout: detached, no local branches, no origin/HEAD.
    git(downstream, 'checkout', '-q', '--detach');
    git(downstream, 'branch', '-D', 'main', 'trunk');
    git(downstream, 'remote', 'set-head', 'origin', '--delete');
    expect(await defaultBaseRef(await openRepository(downstream))).toEqual({ ref: 'origin/main', sha: trunk });
    expect(await defaultBaseRef(await openRepository(downstream), 'trunk')).toEqual({ ref: 'origin/trunk', sha: trunk });
  });

  it('asks for --base when there is no default branch', async () => {
    const lone = newRepo('lone', 'develop');
    commit(lone, 'd');
    const error = await rejection(defaultBaseRef(await openRepository(lone)));
    expect(error).toBeInstanceOf(GitRefError);
    expect(error.message).toContain('pass --base');
  });
});
