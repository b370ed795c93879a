// XML escaping for the JUnit reports (validate and test).

/**
 * Removes what XML 1.0 cannot carry at all (C0 controls other than tab, LF
 * and CR; lone surrogates; U+FFFE and U+FFFF). Character references cannot
 * help: `&#0;` is just as illegal.
 */
function legal(value: string): string {
  return value.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}

/** Character data: `&`, `<` and `>` escaped (the last so `]]>` cannot appear). */
export function xmlText(value: string): string {
  return legal(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A double-quoted attribute value; whitespace characters as references so parsers keep them. */
export function xmlAttribute(value: string): string {
  return xmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
