import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { Log, Result } from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sarifReport } from '../cli/render/sarif';
import { RULES } from '../core/rule-catalog';
import type { ValidationResult } from '../core/validate';
import { validateRepository } from '../core/validate';

/**
 * The official SARIF 2.1.0 schema (Microsoft's sarif-2.1.0-rtm.5, the schema
 * of the final 2.1.0 standard; draft-04), as @microsoft/jest-sarif ships it.
 */
const SARIF_SCHEMA = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
) as object;

const NOW = new Date('2026-11-26T12:00:00Z');

/** A repository with real findings: an unknown owner, a duplicate key, a guardrail, overdue reviews (one waived). */
const FILES: Record<string, string> = {
  'policies/people.yaml': `apiVersion: mandate/v1
kind: Person
id: alice
name: Alice Example
github: alice-ex
---
apiVersion: mandate/v1
kind: Person
id: carol
name: Carol Example
github: carol-ex
`,
  'policies/tools/wiki.yaml': `apiVersion: mandate/v1
kind: Tool
id: wiki
name: Wiki
type: internal
actions:
  pages.read: { effect: read }
  pages.edit: { effect: write }
`,
  'policies/guardrails.yaml': `apiVersion: mandate/v1
kind: Guardrail
id: writes-need-expiry
description: Every write grant expires.
severity: warning
match: { effects: [write] }
require: { expiresWithinDays: 365 }
`,
  // Unknown owner: an error.
  'policies/agents/orphan.yaml': `apiVersion: mandate/v1
kind: Agent
id: orphan
name: Orphan
purpose: Reads the wiki.
owner: zed
status: active
riskTier: low
lastReviewed: 2026-11-01
permissions:
  - tool: wiki
    actions: [pages.read]
`,
  // Review overdue, waived by an exception; a guardrail warning, not waived.
  'policies/agents/editor.yaml': `apiVersion: mandate/v1
kind: Agent
id: editor
name: Editor
purpose: Edits wiki pages.
owner: alice
status: active
riskTier: medium
lastReviewed: 2025-01-01
permissions:
  - tool: wiki
    actions: [pages.edit]
    resources: ["space/docs/**"]
exceptions:
  - rule: review-overdue
    reason: The review is booked for next week.
    approvedBy: carol
    expires: 2027-01-15
`,
  // Never reviewed: an unwaived warning.
  'policies/agents/reader.yaml': `apiVersion: mandate/v1
kind: Agent
id: reader
name: Reader
purpose: Reads the wiki.
owner: alice
status: active
riskTier: low
permissions:
  - tool: wiki
    actions: [pages.read]
`,
  // A duplicate key: an error, and the document is left out.
  'policies/agents/twice.yaml': `apiVersion: mandate/v1
kind: Agent
id: twice
id: again
`,
};

let root: string;
let result: ValidationResult;
let log: Log;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mandate-sarif-'));
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  result = await validateRepository(root, { now: NOW });
  log = JSON.parse(sarifReport(result)) as Log;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function results(): Result[] {
  return log.runs[0]!.results!;
}

describe('sarifReport', () => {
  it('has the findings the fixture is built for', () => {
    const rules = result.findings.map((finding) => `${finding.rule}${finding.waived ? ' (waived)' : ''}`).sort();
    expect(rules).toEqual(['duplicate-key', 'guardrail', 'review-overdue', 'review-overdue (waived)', 'unknown-reference']);
  });

  it('is valid against the SARIF 2.1.0 JSON schema', () => {
    // unicodeRegExp off: the schema's `language` pattern is not valid with the u flag.
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(SARIF_SCHEMA);
    const valid = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The validator is not vacuous: a wrong level and a missing message fail it.
    const broken = structuredClone(log) as unknown as { runs: { results: Record<string, unknown>[] }[] };
    broken.runs[0]!.results[0]!.level = 'fatal';
    delete broken.runs[0]!.results[0]!.message;
    expect(validate(broken)).toBe(false);
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-schema-2\.1\.0\.json$/);
  });

  it('describes every rule of the catalog in the driver', () => {
    const driver = log.runs[0]!.tool.driver;
    expect(driver.name).toBe('mandate');
    expect(driver.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(driver.rules!.map((rule) => rule.id)).toEqual(RULES.map((rule) => rule.id));
    for (const rule of driver.rules!) {
      expect(rule.shortDescription?.text).toBeTruthy();
      expect(rule.fullDescription?.text).toBeTruthy();
      expect(rule.help?.markdown).toBeTruthy();
      expect(rule.properties?.tags).toContain('security');
      const severity = Number(rule.properties?.['security-severity']);
      expect(severity).toBeGreaterThan(0);
      expect(severity).toBeLessThanOrEqual(10);
    }
    const unknownReference = driver.rules!.find((rule) => rule.id === 'unknown-reference')!;
    expect(unknownReference.properties?.tags).toEqual(['security', 'A.3.2', 'A.4.2', 'ASI03']);
    expect(unknownReference.defaultConfiguration?.level).toBe('error');
  });

  it('reports one result per finding, with level, rule index and location', () => {
    const rules = log.runs[0]!.tool.driver.rules!;
    expect(results()).toHaveLength(result.findings.length);
    results().forEach((sarif, index) => {
      const finding = result.findings[index]!;
      expect(sarif.ruleId).toBe(finding.rule);
      expect(rules[sarif.ruleIndex!]!.id).toBe(finding.rule);
      expect(sarif.level).toBe(finding.severity);
      expect(sarif.message.text).toBe(finding.message);
      expect(sarif.locations![0]!.physicalLocation).toEqual({
        artifactLocation: { uri: finding.file, uriBaseId: '%SRCROOT%' },
        region: { startLine: finding.line, startColumn: finding.column },
      });
    });
    const unknown = results().find((sarif) => sarif.ruleId === 'unknown-reference')!;
    expect(unknown.level).toBe('error');
    expect(unknown.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('policies/agents/orphan.yaml');
    const overdue = results().find((sarif) => sarif.ruleId === 'review-overdue' && !sarif.suppressions)!;
    expect(overdue.level).toBe('warning');
  });

  it('names the guardrail of a guardrail finding', () => {
    const guardrail = results().find((sarif) => sarif.ruleId === 'guardrail')!;
    expect(guardrail.properties?.guardrail).toBe('writes-need-expiry');
    expect(guardrail.level).toBe('warning');
  });

  it('marks waived findings as accepted external suppressions', () => {
    const suppressed = results().filter((sarif) => sarif.suppressions);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]!.ruleId).toBe('review-overdue');
    expect(suppressed[0]!.suppressions).toEqual([
      expect.objectContaining({ kind: 'external', status: 'accepted', justification: expect.stringContaining('The review is booked for next week.') }),
    ]);
  });

  it('fingerprints findings stably and independently of lines', async () => {
    const again = JSON.parse(sarifReport(await validateRepository(root, { now: NOW }))) as Log;
    expect(again).toEqual(log);
    const fingerprints = results().map((sarif) => sarif.partialFingerprints?.['mandateFinding/v1']);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
    for (const fingerprint of fingerprints) expect(fingerprint).toMatch(/^[0-9a-f]{64}:1$/);

    // Blank lines above a finding move it but keep its fingerprint.
    const shifted = mkdtempSync(join(tmpdir(), 'mandate-sarif-'));
    try {
      for (const [path, content] of Object.entries(FILES)) {
        mkdirSync(dirname(join(shifted, path)), { recursive: true });
        writeFileSync(join(shifted, path), path.endsWith('orphan.yaml') ? `\n\n\n${content}` : content);
      }
      const moved = JSON.parse(sarifReport(await validateRepository(shifted, { now: NOW }))) as Log;
      const before = results().find((sarif) => sarif.ruleId === 'unknown-reference')!;
      const after = moved.runs[0]!.results!.find((sarif) => sarif.ruleId === 'unknown-reference')!;
      expect(after.locations![0]!.physicalLocation!.region!.startLine).toBe(before.locations![0]!.physicalLocation!.region!.startLine! + 3);
      expect(after.partialFingerprints).toEqual(before.partialFingerprints);
    } finally {
      rmSync(shifted, { recursive: true, force: true });
    }
  });

  it('contains no timestamps or absolute paths', () => {
    const text = sarifReport(result);
    expect(text).not.toContain(root);
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
  });
});
