import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { Finding } from './finding';
import { closestName } from './spelling';
import { newFinding } from './rule-catalog';
import type { ParsedDocument, PathSegment } from './yaml-safe';
import type { DocumentKind } from './schema-validators';
import { compileValidators } from './schema-validators';

/** Kinds of governance documents that live under the roots. */
export const GOVERNANCE_KINDS = [
  'Agent', 'Tool', 'DataClass', 'Person', 'Team', 'Guardrail', 'ApprovalRule', 'ControlCatalog', 'Applicability',
] as const;

/** A kind of governance document (FORMAT.md, Kinds). */
export type GovernanceKind = (typeof GOVERNANCE_KINDS)[number];

export type { DocumentKind };

/** Where a document was found, which decides the kinds it may have. */
export type DocumentPlace = 'roots' | 'config' | 'scenarios';

let compiled: Map<DocumentKind, ValidateFunction> | undefined;

/** The compiled validators, built once per process on first use. */
function validators(): Map<DocumentKind, ValidateFunction> {
  compiled ??= compileValidators();
  return compiled;
}

/** Checks a document's shape against its kind's schema; findings point at the offending node. */
export function checkDocumentShape(document: ParsedDocument, place: DocumentPlace, subject: string): Finding[] {
  const value = document.value;
  const fail = (message: string, path: PathSegment[] = [], part: 'key' | 'value' = 'value'): Finding[] => [
    newFinding('schema', message, document.position(path, part), subject),
  ];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('a document must be a map with apiVersion, kind and id');
  }
  const record = value as Record<string, unknown>;
  if (!('apiVersion' in record)) return fail('missing required field `apiVersion` (mandate/v1)');
  if (record.apiVersion !== 'mandate/v1') {
    return fail(`\`apiVersion\` must be mandate/v1; got ${describeValue(record.apiVersion)}`, ['apiVersion']);
  }
  if (!('kind' in record)) return fail('missing required field `kind`');
  const kind = record.kind;
  const allowed = kindsFor(place);
  if (typeof kind !== 'string' || !validators().has(kind as DocumentKind)) {
    return fail(`\`kind\` must be one of ${allowed.join(', ')}; got ${describeValue(kind)}`, ['kind']);
  }
  if (!(allowed as string[]).includes(kind)) return fail(misplacedKindMessage(kind as DocumentKind, place), ['kind']);
  const validate = validators().get(kind as DocumentKind)!;
  if (validate(value)) return [];
  return describeErrors(validate.errors ?? [], record).map(({ message, path, part }) =>
    newFinding('schema', message, document.position(path, part), subject),
  );
}

function kindsFor(place: DocumentPlace): readonly DocumentKind[] {
  if (place === 'config') return ['Config'];
  if (place === 'scenarios') return ['Scenario'];
  return GOVERNANCE_KINDS;
}

function misplacedKindMessage(kind: DocumentKind, place: DocumentPlace): string {
  if (kind === 'Config') return 'kind Config belongs in mandate.yaml at the repository root';
  if (kind === 'Scenario') return 'kind Scenario belongs under test/scenarios/, outside the governance roots';
  return place === 'config'
    ? `mandate.yaml must hold kind Config; got ${kind}`
    : `scenario files must hold kind Scenario; got ${kind}`;
}

interface DescribedError {
  message: string;
  path: PathSegment[];
  part: 'key' | 'value';
}

const KEYWORD_PRIORITY: Record<string, number> = { type: 0, required: 1, additionalProperties: 1, const: 2, enum: 2 };

function describeErrors(errors: ErrorObject[], root: Record<string, unknown>): DescribedError[] {
  const best = new Map<string, ErrorObject>();
  for (const error of errors) {
    if (['if', 'propertyNames', 'allOf', 'anyOf', 'oneOf'].includes(error.keyword)) continue;
    const slot = `${error.instancePath}\u0000${error.propertyName ?? ''}\u0000${slotDetail(error)}`;
    const held = best.get(slot);
    if (!held || priority(error) < priority(held)) best.set(slot, error);
  }
  const described: DescribedError[] = [];
  const seen = new Set<string>();
  for (const error of best.values()) {
    const item = describeError(error, root);
    const key = `${item.path.join('/')}:${item.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      described.push(item);
    }
  }
  return described;
}

function slotDetail(error: ErrorObject): string {
  if (error.keyword === 'required') return String(error.params.missingProperty);
  if (error.keyword === 'additionalProperties') return String(error.params.additionalProperty);
  return '';
}

function priority(error: ErrorObject): number {
  return KEYWORD_PRIORITY[error.keyword] ?? 3;
}

function describeError(error: ErrorObject, root: Record<string, unknown>): DescribedError {
  const path = instancePath(error.instancePath, root);
  const field = fieldLabel(path);
  const value = error.data;
  const custom = typeof error.parentSchema?.['x-message'] === 'string' ? (error.parentSchema['x-message'] as string) : undefined;
  if (error.propertyName !== undefined) {
    return {
      message: `key \`${error.propertyName}\` in \`${field}\` ${custom ?? error.message ?? 'is not allowed'}`,
      path: [...path, error.propertyName],
      part: 'key',
    };
  }
  const got = `; got ${describeValue(value)}`;
  switch (error.keyword) {
    case 'required': {
      const missing = String(error.params.missingProperty);
      return { message: `missing required field \`${missing}\`${path.length ? ` in \`${field}\`` : ''}`, path, part: 'value' };
    }
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const suggestion = closestName(extra, known);
      return {
        message: `unknown field \`${extra}\`${path.length ? ` in \`${field}\`` : ''}${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
        path: [...path, extra],
        part: 'key',
      };
    }
    case 'enum':
      return { message: `\`${field}\` must be one of ${(error.params.allowedValues as unknown[]).join(', ')}${got}`, path, part: 'value' };
    case 'const':
      return { message: `\`${field}\` ${custom ?? `must be ${String(error.params.allowedValue)}`}${got}`, path, part: 'value' };
    case 'type':
      return { message: `\`${field}\` ${custom ?? `must be ${typeName(String(error.params.type))}`}${got}`, path, part: 'value' };
    case 'pattern':
    case 'format':
      return { message: `\`${field}\` ${custom ?? `must match ${error.keyword} ${String(error.schema)}`}${got}`, path, part: 'value' };
    case 'minimum':
      return { message: `\`${field}\` must be at least ${String(error.params.limit)}${got}`, path, part: 'value' };
    case 'maximum':
      return { message: `\`${field}\` must be at most ${String(error.params.limit)}${got}`, path, part: 'value' };
    case 'minItems':
      return {
        message: error.params.limit === 1 ? `\`${field}\` must not be empty` : `\`${field}\` must list at least ${String(error.params.limit)} items`,
        path,
        part: 'value',
      };
    case 'minProperties':
      return { message: `\`${field}\` must not be empty`, path, part: 'value' };
    case 'uniqueItems': {
      const list = Array.isArray(value) ? value : [];
      const repeated = list[Number(error.params.i)];
      return { message: `\`${field}\` lists ${describeValue(repeated)} more than once`, path: [...path, Number(error.params.i)], part: 'value' };
    }
    case 'maxLength':
      return { message: `\`${field}\` is longer than ${String(error.params.limit)} characters`, path, part: 'value' };
    case 'minLength':
      return { message: `\`${field}\` must not be empty`, path, part: 'value' };
    case 'not':
      return { message: `\`${field}\` ${custom ?? 'has a value that is not allowed'}${got}`, path, part: 'value' };
    default:
      return { message: `\`${field}\` ${custom ?? error.message ?? 'is not valid'}`, path, part: 'value' };
  }
}

function instancePath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: PathSegment = Array.isArray(node) ? Number(key) : key;
    segments.push(segment);
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return segments;
}

function fieldLabel(path: PathSegment[]): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'document';
  if (typeof last === 'number') return `${String(path[path.length - 2] ?? '')}[${last}]`;
  return last;
}

function typeName(type: string): string {
  switch (type) {
    case 'string': return 'text';
    case 'object': return 'a map';
    case 'array': return 'a list';
    case 'integer': return 'a whole number';
    case 'boolean': return 'true or false';
    case 'number': return 'a number';
    default: return type;
  }
}

/** A short, safe rendering of a YAML value for messages ("got 'yes'"). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}
