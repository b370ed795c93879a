import type { Finding } from '../../core/finding';
import type { ValidationResult } from '../../core/validate';
import { xmlAttribute, xmlText } from './xml';

/**
 * The validate result as JUnit XML, the dialect GitLab (`artifacts:
 * reports: junit`), Jenkins (junit step) and GitHub test-report actions read:
 * one `<testsuites>` holding one `<testsuite name="mandate validate">`.
 *
 * Mapping, chosen so that the report fails exactly when `validate` does
 * (exit 1):
 * - an error finding is a test case with `<failure type="RULE" message="...">`;
 * - a warning is a passing test case whose `<system-out>` carries the
 *   warning: warnings do not fail `validate` (with `--strict` they are
 *   already errors), and reporting them as `<skipped>` would claim a check
 *   did not run when it did;
 * - a waived finding is `<skipped message="waived: ...">`: the check ran, and
 *   its outcome is deliberately set aside by an approved exception;
 * - every governance file without any finding is one passing test case, so
 *   a clean repository reports one passing test per file.
 * `errors` stays 0: JUnit reserves it for tests that crashed, and a
 * problem in a governance file is a finding, never a crash.
 * Test cases are named `RULE SUBJECT LINE:COLUMN` with the file as
 * classname. Deterministic: `time` is always 0.
 */
export function junitReport(result: ValidationResult): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const finding of result.findings) {
    if (finding.waived) skipped += 1;
    else if (finding.severity === 'error') failures += 1;
    cases.push(findingCase(finding));
  }
  const filesWithFindings = new Set(result.findings.map((finding) => finding.file));
  for (const file of result.snapshot.files) {
    if (filesWithFindings.has(file)) continue;
    cases.push(`    <testcase classname="${xmlAttribute(file)}" name="${xmlAttribute(`${file} has no findings`)}" time="0"/>`);
  }
  const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mandate" ${counts}>`,
    `  <testsuite name="mandate validate" ${counts}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
  ].join('\n');
}

function findingCase(finding: Finding): string {
  const where = `${finding.file}:${finding.line}:${finding.column}`;
  const open = `    <testcase classname="${xmlAttribute(finding.file)}" name="${xmlAttribute(`${finding.rule} ${finding.subject} ${finding.line}:${finding.column}`)}" time="0">`;
  const details = [
    `${where}: ${finding.severity}: ${finding.message} (${finding.rule})`,
    `subject: ${finding.subject}`,
    ...(finding.guardrail !== undefined ? [`guardrail: ${finding.guardrail}`] : []),
    ...(finding.controls.length > 0 ? [`ISO/IEC 42001: ${finding.controls.join(', ')}`] : []),
    ...(finding.owasp.length > 0 ? [`OWASP agentic: ${finding.owasp.join(', ')}`] : []),
  ].join('\n');
  let body: string;
  if (finding.waived) {
    const { reason, approvedBy, expires } = finding.waived;
    const message = `waived: ${reason} (approved by ${approvedBy}, expires ${expires})`;
    body = `      <skipped message="${xmlAttribute(message)}"/>\n      <system-out>${xmlText(details)}</system-out>`;
  } else if (finding.severity === 'error') {
    body = `      <failure type="${xmlAttribute(finding.rule)}" message="${xmlAttribute(finding.message)}">${xmlText(details)}</failure>`;
  } else {
    body = `      <system-out>${xmlText(details)}</system-out>`;
  }
  return `${open}\n${body}\n    </testcase>`;
}

