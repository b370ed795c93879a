import { dayOf, dayOfInstant, formatDay, parseNow } from '../../core/dates';
import type { Call, Decision } from '../../core/decide';
import { decide, decisionIndex } from '../../core/decide';
import type { RateLimit } from '../../core/documents';
import { fileSystemTree } from '../../core/fs-tree';
import { describeCall } from '../../core/scenarios';
import type { Snapshot } from '../../core/validate';
import { loadSnapshot } from '../../core/validate';
import type { GlobalOptions } from '../context';
import { currentTime, fileLoader, repositoryRoot, requireFormat } from '../context';
import type { Palette } from '../output';
import { paletteFor, UsageError, writeOutput } from '../output';
import { codeSpan, escapeMarkdown } from '../render/markdown-escape';

/** The arguments of `mandate check AGENT TOOL:ACTION [RESOURCE] [--at DATE]`. */
export interface CheckOptions extends GlobalOptions {
  agent: string;
  call: string;
  resource?: string;
  at?: string;
}

/** `mandate check`: one decision (FORMAT.md, Meaning); exit 0 for allow or approval, 1 for deny. */
export async function runCheck(options: CheckOptions): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown'] as const);
  const call = parseCall(options.agent, options.call, options.resource);
  const now = currentTime();
  if (options.at !== undefined && typeof options.at !== 'string') throw new UsageError('--at may be given once');
  const day = options.at === undefined ? dayOfInstant(now) : parseAt(options.at);
  const root = await repositoryRoot(options.repo);
  const snapshot = await loadSnapshot(fileSystemTree(root), { now, loader: fileLoader() });
  warnAboutErrors(snapshot);
  const index = decisionIndex(snapshot.model);
  const decision = decide(index, call, day);
  const resolved = index.names.get(call.agent);
  const result: CheckResult = { call, at: formatDay(day), decision, ...(resolved !== undefined && resolved !== call.agent ? { agent: resolved } : {}) };
  switch (format) {
    case 'json': writeOutput(checkJson(result)); break;
    case 'markdown': writeOutput(checkMarkdown(result)); break;
    case 'text': writeOutput(checkText(result, paletteFor(process.stdout))); break;
  }
  return decision.decision === 'deny' ? 1 : 0;
}

/** A decision with the call it answers. */
export interface CheckResult {
  call: Call;
  /** The UTC day it was decided for. */
  at: string;
  decision: Decision;
  /** The agent id when the call named it by an alias. */
  agent?: string;
}

/** Splits `TOOL:ACTION` at its first colon (tool ids have none; action names may). */
export function parseCall(agent: string, toolAction: string, resource: string | undefined): Call {
  const colon = toolAction.indexOf(':');
  if (colon <= 0 || colon === toolAction.length - 1) {
    throw new UsageError(`'${toolAction}' is not TOOL:ACTION (for example zendesk:tickets.read)`);
  }
  if (agent === '') throw new UsageError('AGENT must not be empty');
  const call: Call = { agent, tool: toolAction.slice(0, colon), action: toolAction.slice(colon + 1) };
  if (resource !== undefined) call.resource = resource;
  return call;
}

/** A `--at` value: a real `YYYY-MM-DD` day, or an ISO date-time (its UTC day). */
export function parseAt(text: string): number {
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    if (formatDay(dayOf(trimmed)) === trimmed) return dayOf(trimmed);
  } else {
    const instant = parseNow(trimmed);
    if (instant) return dayOfInstant(instant);
  }
  throw new UsageError(`--at ${text}: not a date; write YYYY-MM-DD`);
}

/** One stderr line when the repository has error findings: decisions then rest on the documents that loaded. */
export function warnAboutErrors(snapshot: Snapshot): void {
  const errors = snapshot.findings.filter((finding) => finding.severity === 'error' && !finding.waived).length;
  if (errors === 0) return;
  process.stderr.write(`mandate: warning: the repository has ${errors} error finding${errors === 1 ? '' : 's'} (see mandate validate); documents with shape errors are left out of every decision\n`);
}

/** The JSON document of CLI.md: `grant` always (null on deny), `deny`/`guardrail` when they decided, `rateLimit` always (null when none). */
export function checkJson(result: CheckResult): string {
  const { decision } = result;
  const document: Record<string, unknown> = {
    apiVersion: 'mandate/v1',
    decision: decision.decision,
    reason: decision.reason,
    grant: decision.decision === 'deny' ? null : decision.grant,
  };
  if (decision.decision === 'deny' && decision.deny) document.deny = decision.deny;
  if (decision.decision !== 'allow' && decision.guardrail) document.guardrail = decision.guardrail;
  document.rateLimit = decision.decision === 'deny' ? null : decision.rateLimit ?? null;
  document.call = result.call;
  if (result.agent !== undefined) document.agent = result.agent;
  document.at = result.at;
  return JSON.stringify(document, null, 2);
}

const VERDICT: Record<Decision['decision'], { symbol: string; label: string }> = {
  allow: { symbol: '✔', label: 'allow' },
  approval: { symbol: '●', label: 'approval' },
  deny: { symbol: '✖', label: 'deny' },
};

function rateText(rateLimit: RateLimit | undefined): string {
  return rateLimit ? `${rateLimit.max} per ${rateLimit.per}` : 'none';
}

/** The verdict on one coloured line, then the reason and what decided it. */
export function checkText(result: CheckResult, colors: Palette): string {
  const { decision, call } = result;
  const { symbol, label } = VERDICT[decision.decision];
  const paint = decision.decision === 'allow' ? colors.green : decision.decision === 'approval' ? colors.yellow : colors.red;
  const lines = [`${paint(`${symbol} ${label}`)}  ${describeCall(call)}  ${colors.dim(`on ${result.at}`)}`, `  ${decision.reason}`];
  // Where each deciding entry is, unless the reason already says so.
  const where: string[] = [];
  const mention = (what: string, source: { file: string; line: number }): void => {
    if (!decision.reason.includes(`${source.file}:${source.line}`)) where.push(`${what} at ${source.file}:${source.line}`);
  };
  if (decision.decision !== 'deny') mention('grant', decision.grant);
  if (decision.decision === 'deny' && decision.deny) mention('deny entry', decision.deny);
  if (decision.decision !== 'allow' && decision.guardrail) mention(`guardrail ${decision.guardrail.id}`, decision.guardrail);
  if (where.length > 0) lines.push(`  ${colors.dim(where.join(', '))}`);
  if (decision.decision !== 'deny') lines.push(`  ${colors.dim(`rate limit: ${rateText(decision.rateLimit)}`)}`);
  if (result.agent !== undefined) lines.push(`  ${colors.dim(`${call.agent} is an alias of ${result.agent}`)}`);
  return lines.join('\n');
}

/** A short markdown verdict, everything from policy files escaped. */
export function checkMarkdown(result: CheckResult): string {
  const { decision, call } = result;
  const target = `${codeSpan(call.agent)} → ${codeSpan(`${call.tool}:${call.action}`)}${call.resource === undefined ? '' : ` on ${codeSpan(call.resource)}`}`;
  const lines = [`### mandate check: ${decision.decision}`, '', `${target} (${result.at}): ${escapeMarkdown(decision.reason)}.`];
  const details: string[] = [];
  if (decision.decision !== 'deny') details.push(`- Grant: ${codeSpan(`${decision.grant.file}:${decision.grant.line}`)}`);
  if (decision.decision === 'deny' && decision.deny) details.push(`- Deny entry: ${codeSpan(`${decision.deny.file}:${decision.deny.line}`)}`);
  if (decision.decision !== 'allow' && decision.guardrail) {
    details.push(`- Guardrail: ${codeSpan(decision.guardrail.id)} at ${codeSpan(`${decision.guardrail.file}:${decision.guardrail.line}`)}`);
  }
  if (decision.decision !== 'deny') details.push(`- Rate limit: ${escapeMarkdown(rateText(decision.rateLimit))}`);
  if (details.length > 0) lines.push('', ...details);
  return lines.join('\n');
}
