/**
 * The exact encoding of mandate's resource globs (FORMAT.md, "Globs") in
 * Cedar. Cedar's `like` lets `*` cross `/`, so a resource is not matched as
 * one string: its entity carries `depth` (the number of `/`-separated
 * segments) and the segments `s0`, `s1`, ... up to the deepest segment any
 * pattern tests, padded with "" past its depth. A pattern of k segments
 * needs `depth == k` (`depth >= k` with a final `/**`), then each segment:
 * `==` for a literal one, `like` for one with `*`, nothing for `*` alone
 * (a canonical segment is never empty, and `*` matches any other).
 */

import { coversEveryResource, isCanonicalResource } from './globs';
import type { CedarEntity } from './cedar-syntax';
import { cedarString } from './cedar-syntax';

/** Resource attributes besides the segments, in schema order. */
export const RESOURCE_FLAGS = [
  ['present', 'Bool', 'false when the call names no resource'],
  ['canonical', 'Bool', 'false for an empty, "." or ".." segment, or a leading or trailing "/" (FORMAT.md, Globs)'],
  ['depth', 'Long', 'number of "/"-separated segments; 0 without a resource'],
] as const;

/** The segment attribute name for position k. */
export function segmentAttribute(k: number): string {
  return `s${k}`;
}

/** The segments a pattern tests (its trailing `/**` left off), and whether it reaches any depth below them. */
function splitPattern(pattern: string): { segments: string[]; anyDepth: boolean } {
  const anyDepth = pattern.endsWith('/**');
  return { segments: (anyDepth ? pattern.slice(0, -3) : pattern).split('/'), anyDepth };
}

/** How many segment attributes the patterns need: the most segments any one tests (0 for none, or only `**`). */
export function segmentSlots(patternLists: Iterable<readonly string[] | undefined>): number {
  let slots = 0;
  for (const patterns of patternLists) {
    if (coversEveryResource(patterns)) continue;
    for (const pattern of patterns!) slots = Math.max(slots, splitPattern(pattern).segments.length);
  }
  return slots;
}

/** The condition one pattern (not `**`) puts on `resource`. */
function patternCondition(pattern: string): string {
  const { segments, anyDepth } = splitPattern(pattern);
  const parts = [`resource.depth ${anyDepth ? '>=' : '=='} ${segments.length}`];
  segments.forEach((segment, k) => {
    if (segment === '*') return;
    const operator = segment.includes('*') ? 'like' : '==';
    parts.push(`resource.${segmentAttribute(k)} ${operator} ${cedarString(segment)}`);
  });
  return parts.join(' && ');
}

/**
 * The `when` conjunct for a grant's or deny's `resources`; undefined when
 * they cover every resource (absent, or `**`), a call without one included.
 */
export function resourceCondition(patterns: readonly string[] | undefined): string | undefined {
  if (coversEveryResource(patterns)) return undefined;
  const alternatives = patterns!.map(patternCondition);
  const body = alternatives.length === 1 ? alternatives[0]! : `(${alternatives.map((alternative) => `(${alternative})`).join(' || ')})`;
  return `resource.present && ${body}`;
}

/** The resource entity a call sends: `Resource::"<resource>"` (`Resource::""` for a call without one). */
export function resourceEntity(resource: string | undefined, slots: number): CedarEntity {
  const segments = resource === undefined ? [] : resource.split('/');
  const attrs: CedarEntity['attrs'] = {
    present: resource !== undefined,
    canonical: resource === undefined || isCanonicalResource(resource),
    depth: segments.length,
  };
  for (let k = 0; k < slots; k++) attrs[segmentAttribute(k)] = segments[k] ?? '';
  return { uid: { type: 'Resource', id: resource ?? '' }, attrs, parents: [] };
}
