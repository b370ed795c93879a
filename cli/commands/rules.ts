import { RULES } from '../../core/rule-catalog';
import type { RuleDefinition } from '../../core/rule-catalog';
import { OWASP_AGENTIC_RISKS } from '../../core/owasp-agentic';
import type { GlobalOptions } from '../context';
import { requireFormat } from '../context';
import type { Palette } from '../output';
import { paletteFor, writeOutput } from '../output';
import { escapeMarkdown } from '../render/markdown-escape';

/** `mandate rules`: the rule catalog as text, JSON or markdown. */
export async function runRules(options: GlobalOptions): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown'] as const);
  const rules = [...RULES].sort((a, b) => (a.id < b.id ? -1 : 1));
  if (format === 'json') {
    const document = {
      apiVersion: 'mandate/v1',
      rules: rules.map(({ id, severity, description, controls, owasp, rationale, fixed }) => ({
        id, severity, description, controls, owasp, rationale, configurable: !fixed && id !== 'guardrail',
      })),
    };
    writeOutput(JSON.stringify(document, null, 2));
  } else if (format === 'markdown') {
    writeOutput(rulesMarkdown(rules));
  } else {
    writeOutput(rulesText(rules, paletteFor(process.stdout)));
  }
  return 0;
}

function rulesText(rules: RuleDefinition[], colors: Palette): string {
  const width = Math.max(...rules.map((rule) => rule.id.length));
  return rules
    .map((rule) => {
      const severity = rule.id === 'guardrail' ? 'per guardrail' : rule.severity;
      const mapped = [...rule.controls, ...rule.owasp].join(' ');
      return `${colors.bold(rule.id.padEnd(width))}  ${severity.padEnd(13)}  ${rule.description}\n${' '.repeat(width + 17)}${colors.dim(mapped)}`;
    })
    .join('\n');
}

function rulesMarkdown(rules: RuleDefinition[]): string {
  const lines = [
    '| Rule | Default | Fires on | ISO/IEC 42001 | OWASP agentic | Why |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const rule of rules) {
    const owasp = rule.owasp.map((id) => `${id} ${OWASP_AGENTIC_RISKS[id]}`).join(', ');
    const severity = rule.id === 'guardrail' ? 'per guardrail' : rule.severity;
    lines.push(`| \`${rule.id}\` | ${severity} | ${escapeMarkdown(rule.description)} | ${rule.controls.join(', ')} | ${escapeMarkdown(owasp)} | ${escapeMarkdown(rule.rationale)} |`);
  }
  return lines.join('\n');
}
