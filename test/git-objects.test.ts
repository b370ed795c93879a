// The native object reader (core/git-objects.ts, core/git-pack.ts) against
// real repositories built with the git CLI: every object must come back
// byte-identical to `git cat-file`, loose, packed, deltified (OFS and REF
// deltas, chains of 50), large, and through alternates; missing and corrupt
// objects must fail with the typed errors.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitObjectError, objectHeader, openRepository, readBlobBytes, readBlobWithin, readCommitInfo, readTreeEntries, resolveRef } from '../core/git';
import { CorruptObjectError, ObjectStore } from '../core/git-objects';
import { commitTree } from '../core/git-tree';
import { commit, git, gitEnv, rejection } from './helpers/git';

const scratch = mkdtempSync(join(tmpdir(), 'mandate-git-objects-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));


function gitBytes(cwd: string, args: string[], input?: string | Uint8Array): Buffer {
  return execFileSync('git', args, { cwd, env: gitEnv(), input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

function newRepo(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'gc.auto', '0');
  return dir;
}

/** Deterministic pseudo-random bytes (xorshift32): incompressible content. */
function noise(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed || 1;
  for (let index = 0; index < length; index++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[index] = x & 0xff;
  }
  return bytes;
}

interface CatFile {
  type: string;
  content: Buffer;
}

/** Every object of the repository as `git cat-file --batch` prints it, by id. */
function allObjects(dir: string): Map<string, CatFile> {
  const ids = git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)').split('\n').filter(Boolean);
  const output = gitBytes(dir, ['cat-file', '--batch'], `${ids.join('\n')}\n`);
  const objects = new Map<string, CatFile>();
  let position = 0;
  while (position < output.length) {
    const newline = output.indexOf(10, position);
    const [oid, type, size] = output.toString('utf8', position, newline).split(' ');
    const start = newline + 1;
    const content = output.subarray(start, start + Number(size));
    objects.set(oid!, { type: type!, content });
    position = start + Number(size) + 1;
  }
  expect(objects.size).toBe(ids.length);
  return objects;
}

/** Reads every object with a fresh store and compares it with git's bytes; returns how many were compared. */
function expectIdentical(dir: string, options: { deltaBaseCacheBytes?: number; shuffle?: boolean } = {}): number {
  const expected = allObjects(dir);
  const store = new ObjectStore(join(dir, '.git', 'objects'), options);
  try {
    const ids = [...expected.keys()];
    if (options.shuffle) ids.sort((a, b) => (a.slice(7) < b.slice(7) ? -1 : 1));
    for (const oid of ids) {
      const want = expected.get(oid)!;
      const got = store.read(oid);
      expect(got?.type, oid).toBe(want.type);
      expect(got!.content.length, oid).toBe(want.content.length);
      expect(got!.content.equals(want.content), `${oid} (${want.type}) content`).toBe(true);
      const header = store.header(oid);
      expect(header?.size, oid).toBe(want.content.length);
      if (header?.type !== 'unknown') expect(header?.type, oid).toBe(want.type);
    }
    // Read again: the cached delta bases must give the same answers (and the copies handed out must not alias them).
    for (const oid of ids.slice(0, 50)) {
      const first = store.read(oid)!;
      first.content.fill(0);
      expect(store.read(oid)!.content.equals(expected.get(oid)!.content), oid).toBe(true);
    }
  } finally {
    store.close();
  }
  return expected.size;
}

function packDirectory(dir: string): string {
  return join(dir, '.git', 'objects', 'pack');
}

function looseCount(dir: string): number {
  return Number(/^count: (\d+)$/m.exec(git(dir, 'count-objects', '-v'))![1]);
}

/** `git verify-pack -v` rows: id, type, and the delta depth (0 for a whole object). */
function packRows(dir: string): { oid: string; type: string; depth: number; base?: string }[] {
  const idx = readdirSync(packDirectory(dir))
    .filter((name) => name.endsWith('.idx'))
    .map((name) => join(packDirectory(dir), name));
  const rows: { oid: string; type: string; depth: number; base?: string }[] = [];
  for (const line of git(dir, 'verify-pack', '-v', ...idx).split('\n')) {
    const match = /^([0-9a-f]{40}) (\w+) +\d+ \d+ \d+(?: (\d+) ([0-9a-f]{40}))?$/.exec(line);
    if (match) rows.push({ oid: match[1]!, type: match[2]!, depth: Number(match[3] ?? 0), base: match[4] });
  }
  return rows;
}

// ------------------------------------------------------------ the fixture

const LINE = 'key: a value that is long enough to make deltas worth it\n';
let repo: string;
let treeAsBlob: { tree: string; blob: string };
let bigTip: string;
const bigText = (version: number): string => `${LINE.repeat(90_000)}version: ${version}\n`;

beforeAll(() => {
  repo = newRepo('objects');
  commit(repo, 'root', {
    'mandate.yaml': 'apiVersion: mandate/v1\nkind: Config\n',
    'policies/empty.yaml': '',
    'policies/binary.bin': Uint8Array.from({ length: 256 }, (_, index) => index),
    'policies/noise.bin': noise(3 * 1024 * 1024, 7),
    'policies/big.yaml': bigText(0),
    'policies/unicode/naïve.yaml': 'name: café ☕\n',
  });
  chmodSync(join(repo, 'mandate.yaml'), 0o755);
  // Fifty-nine versions of one file: enough for a chain of 50 deltas.
  for (let version = 1; version < 60; version++) {
    const lines = Array.from({ length: 120 }, (_, index) => `line ${index}: ${index % 7 === version % 7 ? `changed in ${version}` : 'the same'}\n`);
    commit(repo, `version ${version}`, {
      'policies/chain.yaml': `${lines.join('')}${LINE.repeat(version)}`,
      [`policies/agents/agent-${version % 9}.yaml`]: `id: agent-${version % 9}\nrevision: ${version}\n${LINE.repeat(20)}`,
    });
  }
  // A big file edited slightly: its delta's base is larger than the delta-base cache keeps.
  bigTip = commit(repo, 'big edit', { 'policies/big.yaml': bigText(1), 'policies/noise.bin': Buffer.concat([noise(3 * 1024 * 1024, 7), Buffer.from('tail')]) });
  git(repo, 'tag', '-a', 'v1', '-m', 'an annotated tag');
  // A blob with exactly the bytes of a tree object: same content, other type, other id.
  const tree = git(repo, 'rev-parse', 'HEAD^{tree}');
  const blob = gitBytes(repo, ['hash-object', '-w', '-t', 'blob', '--stdin'], gitBytes(repo, ['cat-file', 'tree', tree])).toString().trim();
  git(repo, 'tag', 'tree-bytes', blob); // reachable, so gc keeps it
  treeAsBlob = { tree, blob };
});

// ------------------------------------------------------------ byte identity

describe('ObjectStore reads every object exactly as git does', () => {
  it('loose objects', () => {
    expect(looseCount(repo)).toBeGreaterThan(100);
    expect(expectIdentical(repo)).toBeGreaterThan(100);
  });

  it('a blob identical to a tree\'s bytes keeps its own type', async () => {
    const opened = await openRepository(repo);
    expect(treeAsBlob.blob).not.toBe(treeAsBlob.tree);
    const asBlob = Buffer.from(await readBlobBytes(opened, treeAsBlob.blob));
    expect(asBlob.equals(gitBytes(repo, ['cat-file', 'tree', treeAsBlob.tree]))).toBe(true);
    const entries = await readTreeEntries(opened, treeAsBlob.tree);
    expect([...entries.keys()]).toEqual(['mandate.yaml', 'policies']);
    expect(entries.get('mandate.yaml')?.mode).toBe('100755');
    expect((await rejection(readBlobBytes(opened, treeAsBlob.tree))).message).toContain('is a tree, not a blob');
    expect((await rejection(readTreeEntries(opened, treeAsBlob.blob))).message).toContain('is a blob, not a tree');
  });

  it('after git gc: packed, with OFS deltas', () => {
    git(repo, 'gc', '-q', '--prune=now');
    expect(looseCount(repo)).toBe(0);
    const rows = packRows(repo);
    expect(rows.some((row) => row.depth > 0)).toBe(true);
    expect(expectIdentical(repo)).toBe(rows.length);
  });

  it('after git repack -adf --depth=50 --window=250: chains of 50 deltas, with and without the base cache', () => {
    git(repo, 'repack', '-adfq', '--depth=50', '--window=250');
    const rows = packRows(repo);
    expect(Math.max(...rows.map((row) => row.depth))).toBeGreaterThanOrEqual(30);
    const count = expectIdentical(repo);
    expect(count).toBe(rows.length);
    expect(expectIdentical(repo, { deltaBaseCacheBytes: 0, shuffle: true })).toBe(count);
    expect(expectIdentical(repo, { deltaBaseCacheBytes: 64 * 1024, shuffle: true })).toBe(count);
  });

  it('REF_DELTA packs (no offset deltas)', () => {
    const dir = join(scratch, 'ref-delta');
    git(scratch, 'clone', '-q', '--no-local', repo, dir);
    git(dir, '-c', 'repack.useDeltaBaseOffset=false', 'repack', '-adfq', '--depth=50', '--window=250');
    const pack = join(packDirectory(dir), readdirSync(packDirectory(dir)).find((name) => name.endsWith('.pack'))!);
    // Every delta entry's first byte says 7 (REF_DELTA) in bits 4-6.
    const bytes = readFileSync(pack);
    const deltas = git(dir, 'verify-pack', '-v', pack)
      .split('\n')
      .map((line) => /^[0-9a-f]{40} \w+ +\d+ \d+ (\d+) \d+ [0-9a-f]{40}$/.exec(line)?.[1])
      .filter((offset) => offset !== undefined)
      .map(Number);
    expect(deltas.length).toBeGreaterThan(50);
    for (const offset of deltas) expect((bytes[offset]! >> 4) & 7).toBe(7);
    expectIdentical(dir);
  });

  it('64-bit offsets in the pack index', () => {
    const dir = join(scratch, 'large-offsets');
    git(scratch, 'clone', '-q', '--no-local', repo, dir);
    const pack = readdirSync(packDirectory(dir)).find((name) => name.endsWith('.pack'))!;
    const idx = join(packDirectory(dir), pack.replace(/\.pack$/, '.idx'));
    rmSync(idx);
    // Every object above offset 1000 gets an entry in the 8-byte offset table (git's test-suite switch).
    git(dir, 'index-pack', '--index-version=2,1000', '-o', idx, join(packDirectory(dir), pack));
    const count = readFileSync(idx).readUInt32BE(8 + 255 * 4);
    const large = (readFileSync(idx).length - (8 + 1024 + count * 28 + 40)) / 8;
    expect(large).toBeGreaterThan(count / 2);
    expect(large).toBeLessThan(count);
    expectIdentical(dir);
  });

  it('objects borrowed through alternates, and loose objects beside packs', () => {
    const dir = join(scratch, 'shared');
    git(scratch, 'clone', '-q', '--shared', repo, dir);
    expect(readFileSync(join(dir, '.git/objects/info/alternates'), 'utf8')).toContain(repo);
    commit(dir, 'local', { 'policies/local.yaml': 'local: true\n' });
    expect(looseCount(dir)).toBeGreaterThan(0);
    expectIdentical(dir);
  });
});

// ------------------------------------------------------------ through core/git.ts

describe('core/git.ts over the native reader', () => {
  it('reads trees like git ls-tree and commits like git cat-file', async () => {
    const opened = await openRepository(repo);
    const head = await resolveRef(opened, 'HEAD');
    expect(head).toBe(bigTip);
    const info = await readCommitInfo(opened, head);
    expect(info.tree).toBe(git(repo, 'rev-parse', 'HEAD^{tree}'));
    expect(info.parents).toEqual([git(repo, 'rev-parse', 'HEAD~1')]);
    expect(info.time).toBe(Number(git(repo, 'log', '-1', '--format=%ct')));
    const listing = gitBytes(repo, ['ls-tree', '-r', '-t', '-z', '--full-tree', 'HEAD']).toString('utf8').split('\0').filter(Boolean);
    expect(listing.length).toBeGreaterThan(10);
    for (const line of listing) {
      const [, mode, type, oid, path] = /^(\d+) (\w+) ([0-9a-f]{40})\t(.*)$/s.exec(line)!;
      const parts = path!.split('/');
      const name = parts.pop()!;
      const parent = parts.length === 0 ? info.tree : git(repo, 'rev-parse', `HEAD:${parts.join('/')}`);
      expect((await readTreeEntries(opened, parent)).get(name), path).toEqual({ name, mode, oid, type });
    }
    expect((await readTreeEntries(opened, info.tree)).get('mandate.yaml')?.mode).toBe('100755');
  });

  it('readBlobWithin gives the size over the limit and the bytes within it, for loose, packed and deltified blobs', async () => {
    const check = async (dir: string): Promise<void> => {
      const opened = await openRepository(dir);
      for (const path of ['policies/big.yaml', 'policies/noise.bin', 'policies/chain.yaml', 'policies/empty.yaml']) {
        for (const revision of ['HEAD', 'HEAD~1', 'HEAD~30']) {
          const oid = git(dir, 'rev-parse', `${revision}:${path}`);
          const want = gitBytes(dir, ['cat-file', 'blob', oid]);
          const small = await readBlobWithin(opened, oid, 1000);
          expect(small.size, `${revision}:${path}`).toBe(want.length);
          expect('bytes' in small, `${revision}:${path}`).toBe(want.length <= 1000);
          const whole = await readBlobWithin(opened, oid, want.length);
          expect('bytes' in whole && Buffer.from(whole.bytes).equals(want), `${revision}:${path}`).toBe(true);
          expect((await objectHeader(opened, oid))?.size).toBe(want.length);
        }
      }
      const file = await commitTree(opened, await resolveRef(opened, 'HEAD')).readFile('policies/big.yaml', 1024);
      expect(file).toEqual({ status: 'too-large', size: bigText(1).length });
    };
    await check(repo); // packed with long chains
    const unpacked = newRepo('limits-unpacked');
    const pack = readdirSync(packDirectory(repo)).find((name) => name.endsWith('.pack'))!;
    gitBytes(unpacked, ['unpack-objects', '-q'], readFileSync(join(packDirectory(repo), pack)));
    git(unpacked, 'update-ref', 'HEAD', bigTip);
    expect(looseCount(unpacked)).toBeGreaterThan(100);
    await check(unpacked); // loose
  });

  it('finds objects packed or unpacked after the store was opened', async () => {
    const dir = join(scratch, 'moving');
    git(scratch, 'clone', '-q', '--no-local', repo, dir);
    const opened = await openRepository(dir);
    const first = git(dir, 'rev-parse', 'HEAD:policies/chain.yaml');
    expect(Buffer.from(await readBlobBytes(opened, first)).equals(gitBytes(dir, ['cat-file', 'blob', first]))).toBe(true);
    // A new loose object, then everything repacked into a new pack (the old one deleted).
    const later = commit(dir, 'later', { 'policies/later.yaml': 'later: true\n' });
    expect((await readCommitInfo(opened, later)).parents).toEqual([bigTip]);
    git(dir, 'repack', '-adfq');
    git(dir, 'prune-packed');
    const blob = git(dir, 'rev-parse', 'HEAD:policies/later.yaml');
    expect(Buffer.from(await readBlobBytes(opened, blob)).toString()).toBe('later: true\n');
    const older = git(dir, 'rev-parse', 'HEAD~20:policies/chain.yaml');
    expect(Buffer.from(await readBlobBytes(opened, older)).equals(gitBytes(dir, ['cat-file', 'blob', older]))).toBe(true);
  });

  it('expands short ids from packs and loose objects', async () => {
    const opened = await openRepository(repo);
    const store = new ObjectStore(join(repo, '.git', 'objects'));
    for (const oid of [bigTip, treeAsBlob.blob, git(repo, 'rev-parse', 'v1')]) {
      expect(store.expand(oid.slice(0, 7))).toEqual([oid]);
      expect(store.expand(oid.toUpperCase().slice(0, 10))).toEqual([oid]);
    }
    expect(await resolveRef(opened, bigTip.slice(0, 8))).toBe(bigTip);
    expect(store.expand('0000000000')).toEqual([]);
    store.close();
  });
});

// ------------------------------------------------------------ missing and corrupt objects

describe('missing and corrupt objects', () => {
  it('a partial clone without blobs: typed errors, and unreadable files', async () => {
    git(repo, 'config', 'uploadpack.allowFilter', 'true');
    const dir = join(scratch, 'blobless');
    git(scratch, 'clone', '-q', '--no-checkout', '--filter=blob:none', `file://${repo}`, dir);
    const opened = await openRepository(dir);
    const head = await resolveRef(opened, 'HEAD');
    const oid = git(repo, 'rev-parse', 'HEAD:policies/chain.yaml');
    const error = await rejection(readBlobBytes(opened, oid));
    expect(error).toBeInstanceOf(GitObjectError);
    expect(error.message).toBe(`blob ${oid.slice(0, 12)} is not in this clone`);
    expect(await commitTree(opened, head).readFile('policies/chain.yaml', 1 << 20)).toEqual({
      status: 'unreadable',
      reason: `blob ${oid.slice(0, 12)} is not in this clone`,
    });
    // Trees and commits are all there.
    expect((await readTreeEntries(opened, (await readCommitInfo(opened, head)).tree)).has('policies')).toBe(true);
  });

  it('a shallow clone: the parent beyond the boundary is not in this clone', async () => {
    const dir = join(scratch, 'shallow');
    git(scratch, 'clone', '-q', '--depth', '1', `file://${repo}`, dir);
    const opened = await openRepository(dir);
    const head = await resolveRef(opened, 'HEAD');
    const [parent] = (await readCommitInfo(opened, head)).parents;
    const error = await rejection(readCommitInfo(opened, parent!));
    expect(error).toBeInstanceOf(GitObjectError);
    expect(error.message).toBe(`commit ${parent!.slice(0, 12)} is not in this clone`);
  });

  it('a corrupt loose object, a truncated pack and a damaged delta fail as GitObjectError', async () => {
    const dir = newRepo('corrupt');
    const head = commit(dir, 'one', { 'a.yaml': 'a: 1\n', 'b.yaml': LINE.repeat(100) });
    const blob = git(dir, 'rev-parse', 'HEAD:a.yaml');
    const path = join(dir, '.git/objects', blob.slice(0, 2), blob.slice(2));
    chmodSync(path, 0o644);
    writeFileSync(path, 'not zlib at all');
    const opened = await openRepository(dir);
    const error = await rejection(readBlobBytes(opened, blob));
    expect(error).toBeInstanceOf(GitObjectError);
    expect(error.message).toContain(`cannot read blob ${blob.slice(0, 12)}`);
    expect(await commitTree(opened, head).readFile('a.yaml', 1024)).toMatchObject({ status: 'unreadable' });

    // A packed repository whose pack loses its tail.
    const packed = join(scratch, 'truncated');
    git(scratch, 'clone', '-q', '--no-local', repo, packed);
    const pack = join(packDirectory(packed), readdirSync(packDirectory(packed)).find((name) => name.endsWith('.pack'))!);
    const bytes = readFileSync(pack);
    writeFileSync(pack, bytes.subarray(0, bytes.length - 200_000));
    const store = new ObjectStore(join(packed, '.git/objects'));
    let failures = 0;
    for (const oid of allObjects(repo).keys()) {
      try {
        store.read(oid);
      } catch (caught) {
        expect(caught).toBeInstanceOf(CorruptObjectError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
    store.close();

    // Flip bytes inside every delta's data: each read fails cleanly or (rarely) still inflates to the right size.
    const damaged = join(scratch, 'damaged');
    git(scratch, 'clone', '-q', '--no-local', repo, damaged);
    const damagedPack = join(packDirectory(damaged), readdirSync(packDirectory(damaged)).find((name) => name.endsWith('.pack'))!);
    const data = readFileSync(damagedPack);
    for (let offset = 200; offset < data.length - 40; offset += 997) data[offset] = data[offset]! ^ 0x5a;
    writeFileSync(damagedPack, data);
    const damagedStore = new ObjectStore(join(damaged, '.git/objects'));
    for (const oid of allObjects(repo).keys()) {
      try {
        damagedStore.read(oid);
      } catch (caught) {
        expect(caught, String(caught)).toBeInstanceOf(CorruptObjectError);
      }
    }
    damagedStore.close();
  });

  it('refuses tree entries that could escape the directory', async () => {
    const dir = newRepo('unsafe');
    const blob = gitBytes(dir, ['hash-object', '-w', '--stdin'], 'x\n').toString().trim();
    for (const name of ['..', '.git', '.GIT.', 'git~1']) {
      const raw = Buffer.concat([Buffer.from(`100644 ${name}\0`), Buffer.from(blob, 'hex')]);
      const tree = gitBytes(dir, ['hash-object', '-w', '-t', 'tree', '--literally', '--stdin'], raw).toString().trim();
      const error = await rejection(readTreeEntries(await openRepository(dir), tree));
      expect(error, name).toBeInstanceOf(GitObjectError);
      expect(error.message, name).toContain('unsafe entry name');
    }
  });
});
