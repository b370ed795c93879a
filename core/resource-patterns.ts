/**
 * Containment between resource patterns (FORMAT.md, Globs), decided on
 * meaning rather than text, so `mandate diff` can tell whether a grant or
 * deny got wider or narrower.
 *
 * The language of a pattern is the set of strings `compileResourcePattern`
 * matches (every string, canonical or not: a pattern that covers another
 * on all strings covers it on canonical resources too, so any error this
 * makes is towards reporting a change, never towards hiding one).
 */

/** A pattern as its `/`-separated segment globs, plus whether it ends in `/**` (`**` alone is `*` then `/**`). */
interface SplitPattern {
  segments: string[];
  rest: boolean;
}

function split(pattern: string): SplitPattern {
  // `**` matches every string, exactly as `*/**` does: the first piece is any run without `/`,
  // and whatever follows starts with `/`.
  if (pattern === '**') return { segments: ['*'], rest: true };
  if (pattern.endsWith('/**')) return { segments: pattern.slice(0, -3).split('/'), rest: true };
  return { segments: pattern.split('/'), rest: false };
}

/**
 * Whether a segment glob (`*` = any run of characters, no `/` anywhere)
 * matches a string: the classic two-pointer wildcard match, O(|glob| x |text|)
 * in the worst case and free of regular-expression backtracking blow-ups.
 */
export function segmentGlobMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g;
      g += 1;
      mark = t;
    } else if (g < glob.length && glob[g] === text[t]) {
      g += 1;
      t += 1;
    } else if (star !== -1) {
      g = star + 1;
      mark += 1;
      t = mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}

/** A character that occurs in neither string (and is not `/`), from the private-use area. */
function freshCharacter(a: string, b: string): string {
  for (let code = 0xe000; ; code += 1) {
    const candidate = String.fromCharCode(code);
    if (!a.includes(candidate) && !b.includes(candidate)) return candidate;
  }
}

/**
 * Whether every string segment glob `inner` matches is matched by `outer`.
 *
 * Exact: replace each run of `*` in `inner` by one character `#` found in
 * neither glob. If `outer` matches that string, each `#` sits inside a `*`
 * of `outer` (it is no literal of `outer`), and that `*` absorbs whatever the
 * `*` of `inner` stands for, so `outer` matches every instance. Conversely the
 * string is itself an instance of `inner` (a `*` may match `#`), so if
 * `outer` misses it, containment fails.
 */
export function segmentCovers(outer: string, inner: string): boolean {
  if (outer === inner || /^\*+$/.test(outer)) return true;
  const fresh = freshCharacter(outer, inner);
  return segmentGlobMatches(outer, inner.replace(/\*+/g, fresh));
}

/**
 * Whether resource pattern `outer` matches every resource `inner` matches
 * (exact for single patterns). A string splits into pieces at `/`; a
 * pattern without `/**` matches exactly as many pieces as it has segments,
 * one with `/**` at least that many (later pieces free). The languages are
 * products of independent, non-empty piece languages, so containment is
 * containment of piece counts and of each constrained piece.
 */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer === inner || outer === '**') return true;
  const o = split(outer);
  const i = split(inner);
  if (i.rest) {
    if (!o.rest || o.segments.length > i.segments.length) return false;
  } else if (o.rest ? o.segments.length > i.segments.length : o.segments.length !== i.segments.length) {
    return false;
  }
  return o.segments.every((segment, index) => segmentCovers(segment, i.segments[index]!));
}

/** Resource patterns as a set; `undefined` (no `resources`) is every resource. */
export type ResourceSet = readonly string[] | undefined;

/**
 * Whether a set of patterns covers a pattern. A conservative approximation:
 * true when one member covers it. A union can cover what no single member
 * does (`[q, "q/*\/**"]` together cover `q/**`); then this says no, and the
 * diff reports a widening or narrowing that a reviewer sees is none. It
 * never says yes wrongly, so no real widening goes unreported.
 */
export function setCovers(outer: ResourceSet, inner: string): boolean {
  if (outer === undefined) return true;
  return outer.some((pattern) => patternCovers(pattern, inner));
}

/**
 * A set without the members another member covers (of patterns with the
 * same meaning, the first in code-unit order stays), sorted: what a union
 * of grants amounts to, for comparisons and messages. `undefined` or a set
 * holding a pattern that covers everything becomes `["**"]`.
 */
export function minimalPatterns(patterns: ResourceSet): string[] {
  if (patterns === undefined) return ['**'];
  const sorted = [...new Set(patterns)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.some((pattern) => patternCovers(pattern, '**'))) return ['**'];
  return sorted.filter((pattern, index) =>
    !sorted.some((other, otherIndex) =>
      otherIndex !== index && patternCovers(other, pattern) && (!patternCovers(pattern, other) || otherIndex < index),
    ),
  );
}

/** How a set of patterns moved: what `head` covers that `base` did not, and the inverse. */
export interface ResourceDelta {
  /** Head patterns not covered by the base set. */
  widened: string[];
  /** Base patterns not covered by the head set. */
  narrowed: string[];
}

/** Compares two sets of patterns (each `undefined` = every resource) with `setCovers`. */
export function resourceDelta(base: ResourceSet, head: ResourceSet): ResourceDelta {
  const before = minimalPatterns(base);
  const after = minimalPatterns(head);
  return {
    widened: after.filter((pattern) => !setCovers(before, pattern)),
    narrowed: before.filter((pattern) => !setCovers(after, pattern)),
  };
}

/** A set of patterns for messages: `**` for every resource, else the minimal patterns joined by `, `. */
export function describePatterns(patterns: ResourceSet): string {
  return minimalPatterns(patterns).join(', ');
}
