/**
 * The bits of Cedar's policy and schema syntax `mandate export cedar`
 * writes: string literals, entity references and policies with annotations.
 */

/** Cedar's JSON form of an entity reference. */
export interface CedarEntityUid {
  type: string;
  id: string;
}

/** Cedar's JSON form of an entity (entities.json, and the entities of a request). */
export interface CedarEntity {
  uid: CedarEntityUid;
  attrs: Record<string, boolean | number | string | string[]>;
  parents: CedarEntityUid[];
}

/** One exported policy: its id (also its `@id` annotation) and its text, annotations included. */
export interface CedarPolicy {
  id: string;
  text: string;
}

/**
 * A Cedar string literal. Escapes `\` and `"`, and writes control characters
 * as `\u{..}`. The same literal is a `like` pattern in which every `*` is the
 * wildcard, which is what a `*` in a mandate resource segment means (mandate
 * has no literal `*`), and no other character is special there.
 */
export function cedarString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === '"') out += `\\${char}`;
    else if (code < 0x20 || code === 0x7f) out += `\\u{${code.toString(16)}}`;
    else out += char;
  }
  return `${out}"`;
}

/** `Type::"id"` as policy text. */
export function entityRef(type: string, id: string): string {
  return `${type}::${cedarString(id)}`;
}

/** What a policy applies to, and when. */
export interface PolicyParts {
  effect: 'permit' | 'forbid';
  id: string;
  /** Annotations after `@id`, in order (`@source` first by convention). */
  annotations: [string, string][];
  /** `principal == Agent::"x"`, or undefined for every principal. */
  principal?: string;
  /** Action ids, or undefined for every action. */
  actions?: string[];
  /** Conjuncts of the `when` clause. */
  when?: string[];
  /** The `unless` clause. */
  unless?: string;
}

/** Renders one policy: annotations, scope on its own lines, then `when` / `unless`. */
export function renderPolicy(parts: PolicyParts): CedarPolicy {
  const lines = [`@id(${cedarString(parts.id)})`, ...parts.annotations.map(([key, value]) => `@${key}(${cedarString(value)})`)];
  const principal = parts.principal === undefined ? 'principal' : `principal == ${entityRef('Agent', parts.principal)}`;
  let action = 'action';
  if (parts.actions?.length === 1) action = `action == ${entityRef('Action', parts.actions[0]!)}`;
  else if (parts.actions) action = `action in [${parts.actions.map((id) => entityRef('Action', id)).join(', ')}]`;
  const clauses: string[] = [];
  if (parts.when && parts.when.length > 0) clauses.push(`when { ${parts.when.join(' && ')} }`);
  if (parts.unless !== undefined) clauses.push(`unless { ${parts.unless} }`);
  lines.push(`${parts.effect} (`, `  ${principal},`, `  ${action},`, '  resource', `)${clauses.map((clause) => `\n${clause}`).join('')};`);
  return { id: parts.id, text: lines.join('\n') };
}
