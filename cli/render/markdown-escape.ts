import { redactSecrets } from '../../core/secrets';

/**
 * Escapes text that came from policy files before it goes into markdown
 * (credentials redacted first, so escaping cannot hide one from redaction):
 * no markdown or HTML injection, no @mention pings, no table breaks.
 */
export function escapeMarkdown(text: string): string {
  return redactSecrets(text)
    .replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&')
    .replace(/@/g, '@\u200b')
    .replace(/\r?\n/g, ' ');
}

/** Text for an inline code span: backticks cannot close it early, newlines cannot break the row. */
export function codeSpan(text: string): string {
  const clean = redactSecrets(text).replace(/\r?\n/g, ' ').replace(/`/g, 'ˋ');
  return `\`${clean}\``;
}
