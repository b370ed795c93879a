/**
 * A canonical text of a parsed YAML value for semantic equality: map keys
 * in code-unit order and every list sorted, because every list in a
 * mandate/v1 document is a set (actions, members, data, delegatesTo,
 * aliases, controls, roots, decisions keyed by control, ...) or a list
 * whose order carries no meaning (permissions, objectives). Two documents
 * that differ only in key order, list order, comments or formatting have
 * the same canonical text.
 */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** Whether two parsed values mean the same (see `canonical`). */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** The keys (other than `skip`) whose values differ between two maps, sorted. */
export function changedKeys(a: object | undefined, b: object | undefined, skip: readonly string[] = []): string[] {
  const left = (a ?? {}) as Record<string, unknown>;
  const right = (b ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys]
    .filter((key) => !skip.includes(key) && !sameValue(left[key], right[key]))
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * Plain deep equality, order-sensitive: a cheap first test before the
 * order-insensitive `canonical` comparison (most unchanged documents are
 * also unchanged in order).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let index = 0; index < a.length; index += 1) if (!deepEqual(a[index], b[index])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) if (!Object.hasOwn(right, key) || !deepEqual(left[key], right[key])) return false;
  return true;
}
