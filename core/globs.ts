/**
 * The two glob grammars of FORMAT.md ("Globs"): action patterns, expanded
 * against declared actions when the model is built, and resource patterns,
 * compiled to anchored regular expressions and matched at decision time.
 */

const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

function escapeRegExp(text: string): string {
  return text.replace(REGEXP_SPECIAL, '\\$&');
}

/** Whether an action pattern is a glob (contains `*`). */
export function isActionGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/** The declared actions an action pattern matches: `*` is any run of characters, dots included. */
export function expandActionPattern(pattern: string, declared: readonly string[]): string[] {
  if (!isActionGlob(pattern)) return declared.includes(pattern) ? [pattern] : [];
  const matcher = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[\\s\\S]*')}$`);
  return declared.filter((action) => matcher.test(action));
}

/** A compiled resource pattern: `test` is the whole match against a canonical resource. */
export interface ResourceMatcher {
  test(resource: string): boolean;
}

/**
 * Compiles a resource pattern once. The common shapes get string tests (a
 * literal, `prefix/**`, `**`), several times faster than a regular expression
 * in the decision hot path; patterns with `*` inside a segment become an
 * anchored RegExp.
 */
export function compileResourcePattern(pattern: string): ResourceMatcher {
  if (pattern === '**') return { test: () => true };
  const anyDepth = pattern.endsWith('/**');
  const body = anyDepth ? pattern.slice(0, -3) : pattern;
  if (!body.includes('*')) {
    if (!anyDepth) return { test: (resource) => resource === body };
    const prefix = `${body}/`;
    return { test: (resource) => resource === body || resource.startsWith(prefix) };
  }
  const source = body.split('*').map(escapeRegExp).join('[^/]*');
  return new RegExp(`^${source}${anyDepth ? '(?:/[\\s\\S]*)?' : ''}$`);
}

/** Whether a list of resource patterns (absent: any) covers every resource. */
export function coversEveryResource(resources: readonly string[] | undefined): boolean {
  return resources === undefined || resources.includes('**');
}

/** Whether a call's resource is canonical: no empty, `.` or `..` segment, no leading or trailing `/`. */
export function isCanonicalResource(resource: string): boolean {
  if (resource === '' || resource.startsWith('/') || resource.endsWith('/') || resource.includes('//')) return false;
  if (!resource.includes('.')) return true;
  return resource.split('/').every((segment) => segment !== '.' && segment !== '..');
}
