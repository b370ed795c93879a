import { redactSecrets } from '../../core/secrets';

/**
 * Escapes text that came from policy files before it goes into markdown
 * (credentials redacted first, so escaping cannot hide one from redaction):
 * no markdown or HTML injection, no @mention pings, no table breaks.
 * Inline markup characters are escaped everywhere; block markers only where
 * they could start a block (at the beginning of the text).
 */
export function escapeMarkdown(text: string): string {
  return redactSecrets(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]<>|~&]/g, '\\$&')
    .replace(/^(\s*)([#+=-]|\d+[.)])/, '$1\\$2')
    .replace(/@/g, '@\u200b');
}

/** Text for an inline code span: backticks cannot close it early, newlines cannot break the row. */
export function codeSpan(text: string): string {
  const clean = redactSecrets(text).replace(/\r?\n|\r/g, ' ').replace(/`/g, 'ˋ').replace(/\|/g, '\\|');
  return `\`${clean}\``;
}
