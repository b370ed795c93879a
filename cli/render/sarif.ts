import { createHash } from 'node:crypto';
import type { Location, Log, ReportingDescriptor, Result } from 'sarif';
import packageJson from '../../package.json';
import { ANNEX_A_CONTROLS } from '../../core/annex-a';
import type { Finding } from '../../core/finding';
import { OWASP_AGENTIC_RISKS } from '../../core/owasp-agentic';
import type { RuleDefinition, RuleId } from '../../core/rule-catalog';
import { RULES } from '../../core/rule-catalog';
import type { ValidationResult } from '../../core/validate';

const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** Where users learn about the tool; the package page until the project has a homepage. */
const INFORMATION_URI = `https://www.npmjs.com/package/${packageJson.name}`;

/**
 * The partialFingerprints key (SARIF 3.27.17: versioned names). The value is
 * `sha256(rule, subject, message):occurrence`, independent of line and
 * column so that an alert survives edits above it, with the occurrence
 * number telling apart identical findings in one run.
 */
const FINGERPRINT_KEY = 'mandateFinding/v1';

/**
 * GitHub code scanning's `security-severity` (0.0-10.0; 9.0 and over is
 * critical, 7.0 high, 4.0 medium, under 4.0 low) for each rule. It is per
 * rule, so it follows the rule's nature rather than a repository's
 * severity overrides; each result still carries its own `level`.
 */
const SECURITY_SEVERITY: Record<RuleId, number> = {
  'secret-in-policy': 9.5,
  'lethal-trifecta': 9.0,
  'risk-tier-understated': 8.0,
  'unvetted-tool': 7.5,
  'duplicate-key': 7.5,
  'forbidden-key': 7.5,
  'guardrail': 7.5,
  'duplicate-id': 7.0,
  'unknown-reference': 7.0,
  'unknown-action': 7.0,
  'missing-owner': 7.0,
  'delegation-cycle': 7.0,
  'unreadable-file': 7.0,
  'ungated-destructive': 6.5,
  'wildcard-write': 6.0,
  'yaml-limit': 5.5,
  'schema': 5.0,
  'yaml-syntax': 5.0,
  'inactive-agent-grants': 5.0,
  'review-overdue': 4.5,
  'exception-expired': 4.5,
  'empty-file': 4.0,
  'grant-expired': 3.0,
};

const CONTROL_TITLES = new Map(ANNEX_A_CONTROLS.map((control) => [control.id, control.title]));

/**
 * The validate result as a SARIF 2.1.0 log for GitHub code scanning
 * (`github/codeql-action/upload-sarif`): one run whose driver lists every
 * built-in rule, one result per finding. Deterministic: no timestamps, no
 * absolute paths, findings in their sorted order.
 */
export function sarifReport(result: ValidationResult): string {
  const ruleIndex = new Map<RuleId, number>(RULES.map((rule, index) => [rule.id, index]));
  const occurrences = new Map<string, number>();
  const results = result.findings.map((finding) => sarifResult(finding, ruleIndex, occurrences));
  const log: Log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'mandate',
            version: packageJson.version,
            semanticVersion: packageJson.version,
            informationUri: INFORMATION_URI,
            rules: RULES.map(sarifRule),
          },
        },
        originalUriBaseIds: {
          '%SRCROOT%': { description: { text: 'The root of the governance repository (--repo).' } },
        },
        results,
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}

function sarifRule(rule: RuleDefinition): ReportingDescriptor {
  const controls = rule.controls.map((id) => (CONTROL_TITLES.has(id) ? `${id} ${CONTROL_TITLES.get(id)}` : id));
  const owasp = rule.owasp.map((id) => `${id} ${OWASP_AGENTIC_RISKS[id]}`);
  const mapping = [
    controls.length > 0 ? `ISO/IEC 42001 Annex A: ${controls.join('; ')}.` : '',
    owasp.length > 0 ? `OWASP agentic top 10: ${owasp.join('; ')}.` : '',
  ].filter((line) => line !== '');
  const severityNote = rule.id === 'guardrail'
    ? 'Severity is set by each Guardrail.'
    : `Default severity: ${rule.severity}${rule.fixed ? ' (always an error; cannot be configured or waived)' : ''}.`;
  return {
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.description },
    fullDescription: { text: rule.rationale },
    help: {
      text: [rule.description, rule.rationale, ...mapping, severityNote].join('\n\n'),
      markdown: [
        `**${catalogMarkdown(rule.description)}**`,
        catalogMarkdown(rule.rationale),
        ...mapping.map(catalogMarkdown),
        catalogMarkdown(severityNote),
      ].join('\n\n'),
    },
    defaultConfiguration: { level: rule.severity },
    properties: {
      tags: ['security', ...rule.controls, ...rule.owasp],
      'security-severity': SECURITY_SEVERITY[rule.id].toFixed(1),
      precision: 'very-high',
    },
  };
}

function sarifResult(finding: Finding, ruleIndex: Map<RuleId, number>, occurrences: Map<string, number>): Result {
  const hash = fingerprint(finding);
  const occurrence = (occurrences.get(hash) ?? 0) + 1;
  occurrences.set(hash, occurrence);
  const location: Location = {
    physicalLocation: {
      artifactLocation: { uri: fileUri(finding.file), uriBaseId: '%SRCROOT%' },
      region: { startLine: Math.max(1, finding.line), startColumn: Math.max(1, finding.column) },
    },
  };
  const properties: Record<string, unknown> = {
    subject: finding.subject,
    controls: finding.controls,
    owasp: finding.owasp,
  };
  if (finding.guardrail !== undefined) properties.guardrail = finding.guardrail;
  const sarif: Result = {
    ruleId: finding.rule,
    ruleIndex: ruleIndex.get(finding.rule) ?? -1,
    level: finding.severity,
    message: { text: finding.message },
    locations: [location],
    partialFingerprints: { [FINGERPRINT_KEY]: `${hash}:${occurrence}` },
    properties,
  };
  if (finding.waived) {
    const { reason, approvedBy, expires } = finding.waived;
    sarif.suppressions = [
      {
        kind: 'external',
        status: 'accepted',
        justification: `${reason} (exception approved by ${approvedBy}, expires ${expires})`,
        properties: { approvedBy, expires },
      },
    ];
  }
  return sarif;
}

/** A line-independent identity of a finding: what CLI.md's diff calls the same finding. */
function fingerprint(finding: Finding): string {
  return createHash('sha256')
    .update(JSON.stringify([finding.rule, finding.guardrail ?? '', finding.subject, finding.message]))
    .digest('hex');
}

/** A repository-relative path as a URI reference: each segment percent-encoded, slashes kept. */
function fileUri(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

/**
 * Catalog prose (this package's own text, not policy input) in markdown:
 * only the characters that would turn into emphasis, code, links or HTML
 * (`__proto__` would be bold) are escaped.
 */
function catalogMarkdown(text: string): string {
  return text.replace(/[\\`*_<>[\]]/g, '\\$&');
}

/** `unknown-reference` -> `UnknownReference`, SARIF's conventional rule name shape. */
function pascalCase(id: string): string {
  return id.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}
