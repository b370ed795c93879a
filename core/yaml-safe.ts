import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { Finding, SourcePosition } from './finding';
import { newFinding } from './rule-catalog';
import type { RuleId } from './rule-catalog';
import { findSecrets, describeSecretKind } from './secrets';
import { bytePosition, firstInvalidUtf8Offset } from './utf8';

/** Caps that keep hostile files from exhausting time or memory. */
export interface ParseLimits {
  /** Nesting depth of maps and lists. */
  maxDepth: number;
  /** Alias uses in one document. */
  maxAliases: number;
  /** Nodes produced by expanding aliases in one document (stops billion-laughs). */
  maxAliasNodes: number;
}

/** The caps used unless a caller passes its own. */
export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxDepth: 64, maxAliases: 100, maxAliasNodes: 10_000 };

/** A key or list index on the way from a document's root to one of its nodes. */
export type PathSegment = string | number;

/**
 * One YAML document of a governance file: its plain value and a way back to
 * source positions. A class of plain fields, so a structured clone (from a
 * worker thread) carries everything and `revive` gives it its methods back.
 */
export class ParsedDocument {
  constructor(
    readonly file: string,
    /** 0-based position of the document in its file. */
    readonly index: number,
    readonly value: unknown,
    /** Whether a yaml-*, forbidden-key, duplicate-key or schema problem keeps it out of the model. */
    readonly rejected: boolean,
    private readonly rootOffset: number,
    /** Where each container's offsets start in `offsetData`. */
    private readonly offsets: Map<object, number>,
    private readonly offsetData: Int32Array,
    /** Key order of the rare maps whose insertion order differs from their property order. */
    private readonly keyOrders: Map<object, string[]> | undefined,
    /** Where each line of the file starts; shared by the file's documents. */
    private readonly lineStarts: readonly number[],
  ) {}

  /** Where the node at `path` starts (its key when `part` is `key`), or the nearest ancestor that exists. */
  position(path: readonly PathSegment[], part: 'key' | 'value' = 'value'): SourcePosition {
    return positionAt(this.file, this.lineStarts, locate(this.value, { starts: this.offsets, data: this.offsetData, keyOrders: this.keyOrders }, this.rootOffset, path, part));
  }

  /** Gives a structured clone of a ParsedDocument its prototype back (in place). */
  static revive(clone: ParsedDocument): ParsedDocument {
    return Object.setPrototypeOf(clone, ParsedDocument.prototype) as ParsedDocument;
  }
}

/** Line and column (1-based, columns in UTF-16 code units) of an offset. */
function positionAt(file: string, lineStarts: readonly number[], offset: number): SourcePosition {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (lineStarts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return { file, line: low + 1, column: offset - (lineStarts[low] ?? 0) + 1 };
}

/** The result of reading one governance file's bytes. */
export interface ParsedFile {
  file: string;
  documents: ParsedDocument[];
  findings: Finding[];
}

const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`),
);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses one governance file safely: YAML 1.2 core, capped, positions kept; never throws on content. */
export function parseGovernanceFile(file: string, bytes: Uint8Array, limits: ParseLimits = DEFAULT_PARSE_LIMITS): ParsedFile {
  const findings: Finding[] = [];
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    const at = bytePosition(bytes, Math.max(0, offset));
    findings.push(newFinding('yaml-syntax', `byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} is not valid UTF-8; governance files must be UTF-8`, { file, ...at }, 'file'));
    return { file, documents: [], findings };
  }
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => positionAt(file, lineCounter.lineStarts, offset);
  let documents: Document.Parsed[];
  try {
    documents = parseAllDocuments(text, {
      version: '1.2',
      schema: 'core',
      merge: false,
      uniqueKeys: false,
      prettyErrors: false,
      keepSourceTokens: false,
      lineCounter,
    }) as Document.Parsed[];
  } catch (error) {
    const reason = error instanceof RangeError ? 'nesting is too deep to parse' : 'the YAML parser gave up on this file';
    findings.push(newFinding('yaml-limit', reason, { file, line: 1, column: 1 }, 'file'));
    return { file, documents: [], findings };
  }
  for (const match of findSecrets(text)) {
    findings.push(newFinding('secret-in-policy', `${describeSecretKind(match.kind)} found; remove it from the repository and rotate it`, at(match.start), 'file'));
  }
  const parsed: ParsedDocument[] = [];
  documents.forEach((document, index) => {
    const converted = convertDocument(file, document, index, limits, lineCounter.lineStarts);
    findings.push(...converted.findings);
    if (converted.document) parsed.push(converted.document);
  });
  if (parsed.length === 0 && findings.length === 0) {
    findings.push(newFinding('empty-file', 'file holds no YAML document', { file, line: 1, column: 1 }, 'file'));
  }
  return { file, documents: parsed, findings };
}

/*
 * The position index: per document, one Int32Array of source offsets and,
 * per converted container, where its run starts (a list's items, or a map's
 * keys and values interleaved: key, value, key, value, ... in insertion
 * order). A map whose insertion order differs from its property order
 * (JavaScript puts integer-like keys first) also gets its key order. One
 * typed array per document instead of an array per container keeps the index
 * a fraction of the size of the parsed values.
 */
interface OffsetIndex {
  starts: Map<object, number>;
  data: Int32Array;
  keyOrders: Map<object, string[]> | undefined;
}

const INTEGER_LIKE = /^(?:0|[1-9]\d{0,8})$/;

interface ConversionState {
  document: Document.Parsed;
  offsets: Map<object, number>;
  offsetData: number[];
  keyOrders: Map<object, string[]> | undefined;
  findings: Finding[];
  aliases: number;
  aliasNodes: number;
  aliasDepth: number;
  overLimit: boolean;
  rejected: boolean;
  at: (offset: number) => SourcePosition;
  limits: ParseLimits;
}

function convertDocument(
  file: string,
  document: Document.Parsed,
  index: number,
  limits: ParseLimits,
  lineStarts: readonly number[],
): { document?: ParsedDocument; findings: Finding[] } {
  const at = (offset: number): SourcePosition => positionAt(file, lineStarts, offset);
  const findings: Finding[] = [];
  for (const problem of [...document.errors, ...document.warnings]) {
    const message = (problem.message.split('\n')[0] ?? problem.message).replace(/ at line \d+, column \d+.*$/, '');
    if (/call stack/i.test(message)) {
      if (findings.some((finding) => finding.rule === 'yaml-limit')) continue;
      findings.push(newFinding('yaml-limit', 'nesting is too deep to parse', at(problem.pos[0]), 'file'));
    } else {
      findings.push(newFinding('yaml-syntax', message, at(problem.pos[0]), 'file'));
    }
  }
  if (findings.length > 0) return { findings };
  if (document.contents === null || isEmptyScalar(document.contents)) return { findings };
  const state: ConversionState = {
    document, offsets: new Map(), offsetData: [], keyOrders: undefined, findings, aliases: 0, aliasNodes: 0, aliasDepth: 0, overLimit: false, rejected: false, at, limits,
  };
  const value = convertNode(document.contents, state, 1);
  const subject = subjectOf(value);
  for (const finding of findings) finding.subject = subject;
  // Positions come from a compact offset index, not the YAML syntax tree, so
  // the tree can be collected as soon as the document is converted. A Map,
  // not a WeakMap: it lives exactly as long as the document, and weak maps
  // cost the garbage collector extra work on every major collection.
  const rootOffset = document.contents.range?.[0] ?? 0;
  return { findings, document: new ParsedDocument(
    file, index, value, state.rejected, rootOffset, state.offsets, Int32Array.from(state.offsetData), state.keyOrders, lineStarts,
  ) };
}

function isEmptyScalar(node: YamlNode): boolean {
  return isScalar(node) && node.value === null && node.source === '';
}

function convertNode(node: YamlNode | null | undefined, state: ConversionState, depth: number): unknown {
  if (state.overLimit || node === null || node === undefined) return null;
  if (state.aliasDepth > 0 && (state.aliasNodes += 1) > state.limits.maxAliasNodes) {
    return reportLimit(state, node, `alias expansion produces more than ${state.limits.maxAliasNodes} nodes`);
  }
  if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
    report(state, 'yaml-syntax', node, `tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed; only YAML 1.2 core types are`);
    return null;
  }
  if (isAlias(node)) return convertAlias(node, state, depth);
  if (isScalar(node)) return convertScalar(node, state);
  if (depth > state.limits.maxDepth) {
    return reportLimit(state, node, `nesting is deeper than ${state.limits.maxDepth} levels`);
  }
  if (isSeq(node)) {
    const items = node.items as YamlNode[];
    const list = items.map((item) => convertNode(item, state, depth + 1));
    state.offsets.set(list, state.offsetData.length);
    for (const item of items) state.offsetData.push(item?.range?.[0] ?? node.range?.[0] ?? 0);
    return list;
  }
  if (isMap(node)) return convertMap(node.items as Pair<YamlNode, YamlNode>[], state, depth);
  return null;
}

function convertAlias(node: YamlNode & { source: string; resolve(doc: Document): YamlNode | undefined }, state: ConversionState, depth: number): unknown {
  if ((state.aliases += 1) > state.limits.maxAliases) {
    return reportLimit(state, node, `more than ${state.limits.maxAliases} aliases in one document`);
  }
  const target = node.resolve(state.document);
  if (!target) {
    report(state, 'yaml-syntax', node, `alias *${node.source} has no anchor before it`);
    return null;
  }
  state.aliasDepth += 1;
  const value = convertNode(target, state, depth);
  state.aliasDepth -= 1;
  return value;
}

function convertScalar(node: YamlNode & { value: unknown; source?: string }, state: ConversionState): unknown {
  const value = node.value;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    report(state, 'schema', node, `number ${node.source ?? String(value)} is not finite`);
    return null;
  }
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'string' ? interned(value) : value;
}

/** Longest string value shared through the intern table. */
const INTERN_MAX_LENGTH = 64;
/** Most strings the table holds; past it strings are kept as parsed. */
const INTERN_MAX_ENTRIES = 200_000;
/** V8 copies substrings shorter than this; longer ones are slices that keep the whole source text alive. */
const SLICE_MIN_LENGTH = 13;
const internTable = new Map<string, string>();

/**
 * A string value as the model keeps it: detached from the file's source text
 * (a slice would keep the whole file alive for as long as the model lives),
 * and, when short, one shared instance (a repository repeats the same ids,
 * action names and patterns in thousands of files).
 */
function interned(value: string): string {
  if (value.length > INTERN_MAX_LENGTH) return detached(value);
  const known = internTable.get(value);
  if (known !== undefined) return known;
  const kept = detached(value);
  if (internTable.size < INTERN_MAX_ENTRIES) internTable.set(kept, kept);
  return kept;
}

/** A flat copy of a string that shares no memory with the text it was cut from. */
function detached(value: string): string {
  return value.length < SLICE_MIN_LENGTH ? value : (JSON.parse(JSON.stringify(value)) as string);
}

function convertMap(pairs: Pair<YamlNode, YamlNode>[], state: ConversionState, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const offsets: number[] = [];
  const keys: string[] = [];
  let integerLike = false;
  const seen = new Map<string, YamlNode>();
  for (const pair of pairs) {
    const keyNode = pair.key;
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
      report(state, 'schema', keyNode ?? pair.value, 'keys must be plain strings');
      continue;
    }
    const key = keyNode.value;
    if (FORBIDDEN_KEYS.has(key)) {
      report(state, 'forbidden-key', keyNode, `key \`${key}\` is not allowed`);
      continue;
    }
    if (key === '<<') {
      report(state, 'yaml-syntax', keyNode, 'merge keys (<<) are not supported; write the fields out');
      continue;
    }
    const first = seen.get(key);
    if (first) {
      const firstAt = state.at(first.range?.[0] ?? 0);
      report(state, 'duplicate-key', keyNode, `key \`${key}\` appears twice in this map (first at line ${firstAt.line})`);
      continue;
    }
    seen.set(key, keyNode);
    const keyOffset = keyNode.range?.[0] ?? 0;
    keys.push(key);
    integerLike ||= INTEGER_LIKE.test(key);
    offsets.push(keyOffset, pair.value?.range?.[0] ?? keyOffset);
    result[key] = convertNode(pair.value, state, depth + 1);
  }
  state.offsets.set(result, state.offsetData.length);
  for (const offset of offsets) state.offsetData.push(offset);
  if (integerLike) (state.keyOrders ??= new Map()).set(result, keys);
  return result;
}

function report(state: ConversionState, rule: RuleId, node: YamlNode | null | undefined, message: string): void {
  state.rejected = true;
  state.findings.push(newFinding(rule, message, state.at(node?.range?.[0] ?? 0), 'file'));
}

function reportLimit(state: ConversionState, node: YamlNode, message: string): null {
  report(state, 'yaml-limit', node, message);
  state.overLimit = true;
  return null;
}

/** `kind:id` of a document, the subject of findings about it, or `file` when it has none. */
export function subjectOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return 'file';
  const { kind, id } = value as { kind?: unknown; id?: unknown };
  if (kind === 'Config') return 'config';
  if (typeof kind !== 'string' || typeof id !== 'string') return 'file';
  return `${kind.toLowerCase()}:${id}`;
}

function locate(
  root: unknown,
  index: OffsetIndex,
  rootOffset: number,
  path: readonly PathSegment[],
  part: 'key' | 'value',
): number {
  let node = root;
  let valueOffset = rootOffset;
  let keyOffset: number | undefined;
  for (const segment of path) {
    const start = typeof node === 'object' && node !== null ? index.starts.get(node) : undefined;
    if (start === undefined) break;
    if (Array.isArray(node)) {
      // Runs sit back to back: an index past the list would read the next container's run.
      if (typeof segment !== 'number' || !Number.isInteger(segment) || segment < 0 || segment >= node.length) break;
      valueOffset = index.data[start + segment]!;
      keyOffset = undefined;
    } else {
      const position = (index.keyOrders?.get(node as object) ?? Object.keys(node as object)).indexOf(String(segment));
      if (position < 0) break;
      keyOffset = index.data[start + 2 * position]!;
      valueOffset = index.data[start + 2 * position + 1]!;
    }
    node = (node as Record<string, unknown>)[String(segment)];
  }
  return part === 'key' && keyOffset !== undefined ? keyOffset : valueOffset;
}
