import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { junitReport } from '../cli/render/junit';
import type { Finding } from '../core/finding';
import type { ValidationResult } from '../core/validate';
import { summarize, validateRepository } from '../core/validate';

const NOW = new Date('2026-11-26T12:00:00Z');

const PEOPLE = `apiVersion: mandate/v1
kind: Person
id: alice
name: Alice Example
github: alice-ex
`;
const TOOL = `apiVersion: mandate/v1
kind: Tool
id: wiki
name: Wiki
type: internal
actions:
  pages.read: { effect: read }
`;
const agent = (id: string, extra: string): string => `apiVersion: mandate/v1
kind: Agent
id: ${id}
name: ${id}
purpose: Reads the wiki.
owner: alice
status: active
riskTier: low
permissions:
  - tool: wiki
    actions: [pages.read]
${extra}`;

/** Clean files, one error (unknown owner), one warning (never reviewed), one waived warning. */
const FILES: Record<string, string> = {
  'policies/people.yaml': PEOPLE,
  'policies/tools/wiki.yaml': TOOL,
  'policies/agents/clean.yaml': agent('clean', 'lastReviewed: 2026-11-01\n'),
  'policies/agents/orphan.yaml': agent('orphan', 'lastReviewed: 2026-11-01\n').replace('owner: alice', 'owner: zed'),
  'policies/agents/unreviewed.yaml': agent('unreviewed', ''),
  'policies/agents/waived.yaml': agent('waived', `exceptions:
  - rule: review-overdue
    reason: Review booked for next week.
    approvedBy: alice
    expires: 2027-01-15
`),
};

interface TestCase {
  '@_classname': string;
  '@_name': string;
  failure?: { '@_type': string; '@_message': string; '#text'?: string };
  skipped?: { '@_message': string };
  'system-out'?: string;
}
interface Suite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  '@_skipped': string;
  testcase: TestCase[];
}

function parse(xml: string): { testsuites: Record<string, string> & { testsuite: Suite[] } } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true,
    isArray: (name) => name === 'testcase' || name === 'testsuite',
  });
  return parser.parse(xml);
}

let root: string;
let result: ValidationResult;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mandate-junit-'));
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  result = await validateRepository(root, { now: NOW });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('junitReport', () => {
  it('is well-formed JUnit with consistent counts', () => {
    expect(result.summary).toMatchObject({ errors: 1, warnings: 1, waived: 1, files: 6 });
    const xml = junitReport(result);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    const { testsuites } = parse(xml);
    expect(testsuites.testsuite).toHaveLength(1);
    const suite = testsuites.testsuite[0]!;
    expect(suite['@_name']).toBe('mandate validate');
    // 3 findings, plus the 3 files without any (people, tool, clean agent).
    expect(suite.testcase).toHaveLength(6);
    expect(suite).toMatchObject({ '@_tests': '6', '@_failures': '1', '@_errors': '0', '@_skipped': '1' });
    expect(testsuites).toMatchObject({ '@_tests': '6', '@_failures': '1', '@_errors': '0', '@_skipped': '1' });
    expect(suite.testcase.filter((test) => test.failure)).toHaveLength(Number(suite['@_failures']));
    expect(suite.testcase.filter((test) => test.skipped)).toHaveLength(Number(suite['@_skipped']));
  });

  it('maps errors to failures, warnings to passing cases with output, waived findings to skipped', () => {
    const cases = parse(junitReport(result)).testsuites.testsuite[0]!.testcase;
    const byFile = new Map(cases.map((test) => [test['@_classname'], test]));

    const orphan = byFile.get('policies/agents/orphan.yaml')!;
    expect(orphan['@_name']).toMatch(/^unknown-reference agent:orphan \d+:\d+$/);
    expect(orphan.failure).toMatchObject({ '@_type': 'unknown-reference', '@_message': expect.stringContaining("'zed'") });
    expect(orphan.failure!['#text']).toContain('policies/agents/orphan.yaml:');

    const unreviewed = byFile.get('policies/agents/unreviewed.yaml')!;
    expect(unreviewed.failure).toBeUndefined();
    expect(unreviewed.skipped).toBeUndefined();
    expect(unreviewed['system-out']).toContain('warning');

    const waived = byFile.get('policies/agents/waived.yaml')!;
    expect(waived.failure).toBeUndefined();
    expect(waived.skipped!['@_message']).toBe('waived: Review booked for next week. (approved by alice, expires 2027-01-15)');

    for (const file of ['policies/people.yaml', 'policies/tools/wiki.yaml', 'policies/agents/clean.yaml']) {
      const test = byFile.get(file)!;
      expect(test.failure ?? test.skipped ?? test['system-out']).toBeUndefined();
    }
  });

  it('reports a clean repository as one passing test per file', () => {
    const clean: ValidationResult = { ...result, ok: true, findings: [], summary: summarize([], result.snapshot.files.length) };
    const suite = parse(junitReport(clean)).testsuites.testsuite[0]!;
    expect(suite).toMatchObject({ '@_tests': '6', '@_failures': '0', '@_skipped': '0' });
    expect(suite.testcase.map((test) => test['@_classname'])).toEqual(result.snapshot.files);
  });

  it('escapes markup and strips characters XML 1.0 cannot carry', () => {
    const hostile = `<script>&"'\u0000\u0008\u000b\uffff\ud800 line\nbreak ]]>`;
    const finding: Finding = {
      rule: 'schema', severity: 'error', message: hostile, file: 'policies/a&b<c>.yaml', line: 3, column: 7,
      subject: 'agent:x"y', controls: [], owasp: [],
    };
    const xml = junitReport({ ...result, findings: [finding], summary: summarize([finding], 1) });
    expect(xml).not.toContain('<script>');
    for (const illegal of ['\u0000', '\u0008', '\u000b', '\uffff', '\ud800']) expect(xml).not.toContain(illegal);
    const test = parse(xml).testsuites.testsuite[0]!.testcase[0]!;
    expect(test['@_classname']).toBe('policies/a&b<c>.yaml');
    expect(test['@_name']).toBe('schema agent:x"y 3:7');
    expect(test.failure!['@_message']).toBe(`<script>&"' line\nbreak ]]>`);
    expect(test.failure!['#text']).toContain(`<script>&"' line\nbreak ]]>`);
  });
});
