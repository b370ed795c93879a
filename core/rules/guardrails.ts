import { perHour } from '../documents';
import type { GuardrailRequire } from '../documents';
import type { Finding } from '../finding';
import { guardrailsForAgent } from '../guardrail-match';
import { pairKey } from '../pair-key';
import type { AgentDoc } from '../documents';
import type { Grant, Located, Model } from '../model';
import { isExpired } from '../model';
import { newFinding, ruleDefinition } from '../rule-catalog';

/** One `guardrail` finding per (unexpired permission, guardrail) of one agent that the permission breaks. */
export function guardrailFindings(model: Model, { doc: agent, subject }: Located<AgentDoc>): Finding[] {
  const findings: Finding[] = [];
  const applicable = guardrailsForAgent(model, agent);
  if (applicable.length === 0) return findings;
  for (const grant of model.grants.get(agent.id) ?? []) {
    if (isExpired(grant, model.today)) continue;
    const keys = grant.actions.map((action) => pairKey(grant.tool, action));
    for (const guardrail of applicable) {
      const selected = grant.actions.filter((_, index) => guardrail.pairs.has(keys[index]!));
      if (selected.length === 0) continue;
      const broken = brokenRequirements(model, guardrail.located.doc.require, grant);
      if (broken.length === 0) continue;
      const { doc } = guardrail.located;
      const finding = newFinding(
        'guardrail',
        `breaks guardrail \`${doc.id}\` (${grant.tool} ${selected.join(', ')}): ${broken.join('; ')}`,
        grant.position,
        subject,
      );
      finding.severity = doc.severity;
      // Shared, never mutated (as newFinding shares the catalog's): a repository can have tens of thousands.
      finding.controls = doc.controls?.length ? doc.controls : ruleDefinition('guardrail').controls;
      finding.guardrail = doc.id;
      findings.push(finding);
    }
  }
  return findings;
}

function brokenRequirements(model: Model, require: GuardrailRequire, grant: Grant): string[] {
  const broken: string[] = [];
  if (require.forbid) broken.push('this permission may not exist');
  if (require.approval === 'required' && !grant.gated) broken.push('needs approval: required');
  if (require.maxRate) {
    const limit = `${require.maxRate.max} per ${require.maxRate.per}`;
    if (!grant.rateLimit) broken.push(`needs a rateLimit of at most ${limit}`);
    else if (perHour(grant.rateLimit) > perHour(require.maxRate)) {
      broken.push(`rateLimit ${grant.rateLimit.max} per ${grant.rateLimit.per} is above ${limit}`);
    }
  }
  if (require.expiresWithinDays !== undefined) {
    const latest = model.today + require.expiresWithinDays;
    if (grant.expires === undefined) broken.push(`needs expires within ${require.expiresWithinDays} days`);
    else if (grant.expires > latest) broken.push(`expires more than ${require.expiresWithinDays} days from today`);
  }
  if (require.justification && !grant.justification?.trim()) broken.push('needs a justification');
  return broken;
}
