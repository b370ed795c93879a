import type { Finding } from '../../core/finding';
import type { ValidationResult } from '../../core/validate';
import type { Palette } from '../output';
import { plural } from '../../core/diff-wording';
import { codeSpan, escapeMarkdown } from './markdown-escape';

/** The validate result as the JSON document of CLI.md. */
export function validationJson(result: ValidationResult): string {
  return JSON.stringify({ apiVersion: 'mandate/v1', ok: result.ok, summary: result.summary, findings: result.findings }, null, 2);
}

/** Findings grouped by file, like a compiler: `line:column  severity  message  rule`. */
export function findingsText(result: ValidationResult, colors: Palette): string {
  const lines: string[] = [];
  let currentFile: string | undefined;
  const width = Math.max(0, ...result.findings.map((finding) => `${finding.line}:${finding.column}`.length));
  for (const finding of result.findings) {
    if (finding.file !== currentFile) {
      if (currentFile !== undefined) lines.push('');
      lines.push(colors.underline(finding.file));
      currentFile = finding.file;
    }
    const where = `${finding.line}:${finding.column}`.padEnd(width);
    lines.push(`  ${colors.dim(where)}  ${severityLabel(finding, colors)}  ${finding.message}  ${colors.dim(finding.rule)}`);
    if (finding.waived) {
      lines.push(`  ${' '.repeat(width)}  ${colors.dim(`waived until ${finding.waived.expires} by ${finding.waived.approvedBy}: ${finding.waived.reason}`)}`);
    }
  }
  if (lines.length > 0) lines.push('');
  lines.push(summaryLine(result, colors));
  return lines.join('\n');
}

function severityLabel(finding: Finding, colors: Palette): string {
  if (finding.waived) return colors.dim('waived ');
  return finding.severity === 'error' ? colors.red('error  ') : colors.yellow('warning');
}

function summaryLine({ ok, summary }: ValidationResult, colors: Palette): string {
  const counts = `${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}, ${summary.waived} waived in ${plural(summary.files, 'file')}`;
  if (summary.files === 0) return colors.yellow(`no governance files found (${counts})`);
  return ok ? colors.green(`✔ ${counts}`) : colors.red(`✖ ${counts}`);
}

/** Findings as a markdown table, everything from policy files escaped. */
export function findingsMarkdown(result: ValidationResult): string {
  const { summary } = result;
  const lines = [
    `### mandate validate: ${result.ok ? 'passed' : 'failed'}`,
    '',
    `${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}, ${summary.waived} waived in ${plural(summary.files, 'file')}.`,
  ];
  if (result.findings.length > 0) {
    lines.push('', '| Severity | Location | Rule | Message |', '| --- | --- | --- | --- |');
    for (const finding of result.findings) {
      const severity = finding.waived ? 'waived' : finding.severity;
      lines.push(`| ${severity} | ${codeSpan(`${finding.file}:${finding.line}:${finding.column}`)} | ${codeSpan(finding.rule)} | ${escapeMarkdown(finding.message)} |`);
    }
  }
  return lines.join('\n');
}
