import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileResourcePattern } from '../core/globs';
import {
  describePatterns, minimalPatterns, patternCovers, resourceDelta, segmentCovers, segmentGlobMatches, setCovers,
} from '../core/resource-patterns';

describe('patternCovers', () => {
  const table: [outer: string, inner: string, covers: boolean][] = [
    // the brief's examples
    ['queue/**', 'queue/a/*', true],
    ['queue/**', 'queue/a', true],
    ['queue/**', 'queue', true],
    ['queue/*', 'queue/a/b', false],
    ['a*', 'ab*c', true],
    ['**', 'anything/at/all', true],
    ['**', '**', true],
    // identity and literals
    ['queue/a', 'queue/a', true],
    ['queue/a', 'queue/b', false],
    ['queue/a', 'queue/a/b', false],
    ['queue/a/b', 'queue/a', false],
    // `*` stays within one segment
    ['queue/*', 'queue/a', true],
    ['queue/*', 'queue/*', true],
    ['queue/*', 'queue', false],
    ['queue/*', 'queue/**', false],
    ['*', 'a/b', false],
    ['*/*', 'a/b', true],
    ['*/*', '*/*/*', false],
    // `/**` matches the prefix itself and everything below
    ['queue/**', 'queue/**', true],
    ['queue/**', 'queue/support/**', true],
    ['queue/support/**', 'queue/**', false],
    ['queue/support/**', 'queue', false],
    ['queue/*/**', 'queue/a/**', true],
    ['queue/*/**', 'queue/**', false],
    ['queue/**', 'queue*', false],
    ['queue*/**', 'queue/**', true],
    ['queue*/**', 'queuex/y', true],
    // `**` is every string, and so is `*/**`
    ['**', 'a/*/b/**', true],
    ['*/**', '**', true],
    ['a/**', '**', false],
    ['*', '**', false],
    ['queue/**', '**', false],
    // globs inside segments
    ['a*b', 'a*b', true],
    ['a*b', 'ab', true],
    ['a*b', 'a*', false],
    ['a*', 'a*b', true],
    ['*b', 'a*b', true],
    ['a*b*c', 'a*c', false],
    ['a*c', 'a*b*c', true],
    ['*a*', 'ba', true],
    ['*a*', 'b*', false],
    ['x*', 'x', true],
    ['x*y*', 'x*y', true],
    ['x*y', 'x*y*', false],
    ['*', '', true],
    ['', '*', false],
    ['a**b', 'a*b', true],
    // nothing else is special
    ['a?', 'ab', false],
    ['a?', 'a?', true],
    ['[ab]', 'a', false],
    ['{a,b}', '{a,b}', true],
    ['!x', 'x', false],
  ];
  for (const [outer, inner, covers] of table) {
    it(`${outer} ${covers ? 'covers' : 'does not cover'} ${inner}`, () => {
      expect(patternCovers(outer, inner)).toBe(covers);
    });
  }
});

describe('segment globs', () => {
  it('matches runs of any length without backtracking blow-ups', () => {
    expect(segmentGlobMatches('a*b*c', 'axxbyyc')).toBe(true);
    expect(segmentGlobMatches('a*b*c', 'axxbyy')).toBe(false);
    expect(segmentGlobMatches('*', '')).toBe(true);
    const hostile = `${'*a'.repeat(500)}b`;
    const text = 'a'.repeat(1000);
    const started = Date.now();
    expect(segmentGlobMatches(hostile, text)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('decides containment with a character neither glob uses', () => {
    expect(segmentCovers('*\uE000*', 'a*')).toBe(false);
    expect(segmentCovers('a*', 'a\uE000*')).toBe(true);
  });
});

describe('sets of patterns', () => {
  it('treats no resources as every resource', () => {
    expect(setCovers(undefined, 'x/**')).toBe(true);
    expect(setCovers(['a/**'], 'b')).toBe(false);
    expect(setCovers(['a/**', 'b'], 'b')).toBe(true);
  });

  it('is conservative: a union covering what no member covers counts as not covering', () => {
    // `q` and `q/*/**` together match exactly what `q/**` matches.
    expect(setCovers(['q', 'q/*/**'], 'q/**')).toBe(false);
  });

  it('reduces a set to its minimal members', () => {
    expect(minimalPatterns(['queue/a', 'queue/**', 'other'])).toEqual(['other', 'queue/**']);
    expect(minimalPatterns(['b', 'a', 'b'])).toEqual(['a', 'b']);
    expect(minimalPatterns(['x/**', '*/**'])).toEqual(['**']);
    expect(minimalPatterns(undefined)).toEqual(['**']);
    expect(minimalPatterns(['a**', 'a*'])).toEqual(['a*']);
    expect(describePatterns(['queue/support/**'])).toBe('queue/support/**');
  });

  it('reports widening and narrowing, both ways when both', () => {
    expect(resourceDelta(['queue/support/**'], undefined)).toEqual({ widened: ['**'], narrowed: [] });
    expect(resourceDelta(undefined, ['queue/support/**'])).toEqual({ widened: [], narrowed: ['**'] });
    expect(resourceDelta(['a/**'], ['b/**'])).toEqual({ widened: ['b/**'], narrowed: ['a/**'] });
    expect(resourceDelta(['a/**', 'b'], ['b', 'a/**'])).toEqual({ widened: [], narrowed: [] });
    expect(resourceDelta(['a/x', 'a/y'], ['a/*'])).toEqual({ widened: ['a/*'], narrowed: [] });
  });
});

// Patterns over a small alphabet, grammar-valid (FORMAT.md Globs): segments of a, b, `*`, no `**` inside one.
const segment = fc
  .array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 4 })
  .map((chars) => chars.join('').replace(/\*+/g, '*'));
const pattern = fc.oneof(
  { weight: 1, arbitrary: fc.constant('**') },
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([segments, rest]) => `${segments.join('/')}${rest ? '/**' : ''}`),
  },
);
const filler = fc.constantFrom('', 'a', 'b', 'c', 'ab', 'ba', 'cc', 'a/b');

/** A resource `pattern` matches: each `*` and the `/**` tail replaced by generated text. */
function instance(of: string, fills: string[]): string {
  let next = 0;
  const take = (): string => fills[next++ % fills.length] ?? '';
  if (of === '**') return take();
  const rest = of.endsWith('/**');
  const body = (rest ? of.slice(0, -3) : of).replace(/\*/g, () => take().replace(/\//g, ''));
  if (!rest) return body;
  const tail = take();
  return tail === '' ? body : `${body}/${tail}`;
}

describe('patternCovers on meaning (property)', () => {
  it('never says yes when a resource of the inner pattern escapes the outer one', () => {
    fc.assert(
      fc.property(pattern, pattern, fc.array(fc.array(filler, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), (outer, inner, samples) => {
        const innerMatcher = compileResourcePattern(inner);
        const outerMatcher = compileResourcePattern(outer);
        for (const fills of samples) {
          const resource = instance(inner, fills);
          expect(innerMatcher.test(resource)).toBe(true);
          if (patternCovers(outer, inner)) expect(outerMatcher.test(resource)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is exact: when it says no, a witness matches the inner pattern and not the outer one', () => {
    // The proof's witness: every `*` becomes a letter neither pattern uses (`c`), then 0..n+1 extra pieces.
    fc.assert(
      fc.property(pattern, pattern, (outer, inner) => {
        fc.pre(!patternCovers(outer, inner));
        const base = inner === '**' ? 'c' : inner.replace(/\/\*\*$/, '').replace(/\*/g, 'c');
        const depth = outer.split('/').length + 1;
        const candidates = [base];
        if (inner.endsWith('**')) for (let extra = 1; extra <= depth; extra += 1) candidates.push(`${base}${'/c'.repeat(extra)}`);
        const innerMatcher = compileResourcePattern(inner);
        const outerMatcher = compileResourcePattern(outer);
        expect(candidates.some((candidate) => innerMatcher.test(candidate) && !outerMatcher.test(candidate))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('is a preorder: reflexive and transitive', () => {
    fc.assert(
      fc.property(pattern, pattern, pattern, (a, b, c) => {
        expect(patternCovers(a, a)).toBe(true);
        if (patternCovers(a, b) && patternCovers(b, c)) expect(patternCovers(a, c)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
