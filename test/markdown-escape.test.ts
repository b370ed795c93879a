import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeSpan, escapeMarkdown } from '../cli/render/markdown-escape';

describe('escapeMarkdown', () => {
  it.each([
    ['<img src=x onerror=alert(1)>', '\\<img src=x onerror=alert(1)\\>'],
    ['[click](javascript:alert(1))', '\\[click\\](javascript:alert(1))'],
    ['a | b', 'a \\| b'],
    ['ping @alice', 'ping @\u200balice'],
    ['# Heading', '\\# Heading'],
    ['- item', '\\- item'],
    ['1. item', '\\1. item'],
    ['line\nbreak', 'line break'],
    ['**bold** _it_ `code`', '\\*\\*bold\\*\\* \\_it\\_ \\`code\\`'],
  ])('neutralises %j', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });
  it('never leaves a raw HTML tag, an unescaped pipe or a live mention', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const escaped = escapeMarkdown(text);
        expect(escaped).not.toMatch(/(^|[^\\])</);
        expect(escaped).not.toMatch(/(^|[^\\])\|/);
        expect(escaped).not.toMatch(/@(?!\u200b)/);
        expect(escaped).not.toMatch(/[\r\n]/);
      }),
    );
  });
  it('redacts credentials before escaping', () => {
    const token = `xoxb-${'1234567890'}-${'abcdefghij'}-${'Zq8Rt6Yu4Io2Pa0Sd9Fg7Hj5'}`;
    expect(escapeMarkdown(`token ${token}`)).toBe('token \\[redacted\\]');
  });
});

describe('codeSpan', () => {
  it('keeps backticks and pipes from breaking the span or the table', () => {
    expect(codeSpan('a`b|c')).toBe('`aˋb\\|c`');
  });
});
