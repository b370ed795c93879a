/**
 * The key of a (tool, action) pair in capability maps, guardrail pair sets,
 * decision and usage indexes.
 *
 * One string instance per pair: a large repository holds the same few
 * thousand pairs in hundreds of thousands of map entries, and a key built
 * anew each time would be kept alive once per entry. The table is bounded;
 * past the bound keys are built as before (equal, just not shared).
 */
const MAX_PAIRS = 100_000;
const keys = new Map<string, Map<string, string>>();
let size = 0;

/** `tool\0action`, the same instance for the same pair. */
export function pairKey(tool: string, action: string): string {
  let byAction = keys.get(tool);
  let key = byAction?.get(action);
  if (key !== undefined) return key;
  key = `${tool}\u0000${action}`;
  if (size < MAX_PAIRS) {
    if (!byAction) keys.set(tool, (byAction = new Map()));
    byAction.set(action, key);
    size += 1;
  }
  return key;
}
