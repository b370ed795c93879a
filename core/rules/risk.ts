import type { Capability, CapabilityEntry } from '../capability';
import { computedTier, hasLethalTrifecta, trifectaLegs } from '../capability';
import { tierRank } from '../documents';
import type { Finding } from '../finding';
import type { Located, Model } from '../model';
import type { AgentDoc } from '../documents';
import { newFinding } from '../rule-catalog';

/** lethal-trifecta and risk-tier-understated for one agent, judged on its effective capability. */
export function riskFindings(model: Model, located: Located<AgentDoc>, capability: Capability): Finding[] {
  const findings: Finding[] = [];
  const legs = trifectaLegs(model, capability);
  if (hasLethalTrifecta(legs)) {
    const read = describePair(legs.sensitiveRead!, located.doc.id);
    const egress = describePair(legs.ungatedEgress!, located.doc.id);
    findings.push(newFinding(
      'lethal-trifecta',
      `reads confidential data (${read}), is exposed to untrusted content, and can send data out without approval (${egress}); gate the egress with approval: required`,
      positionOfPair(model, located, legs.ungatedEgress!),
      located.subject,
    ));
  }
  const computed = computedTier(model, capability);
  if (tierRank(located.doc.riskTier) < tierRank(computed.tier)) {
    findings.push(newFinding(
      'risk-tier-understated',
      `declared riskTier ${located.doc.riskTier} is below the computed tier ${computed.tier}: ${computed.because}`,
      located.source.position(['riskTier']),
      located.subject,
    ));
  }
  return findings;
}

function describePair(entry: CapabilityEntry, agent: string): string {
  const through = entry.via.includes(agent) ? '' : ` via ${entry.via.join(', ')}`;
  return `${entry.tool} ${entry.action}${through}`;
}

function positionOfPair(model: Model, located: Located<AgentDoc>, entry: CapabilityEntry) {
  const grant = model.grants.get(located.doc.id)?.find((candidate) => candidate.tool === entry.tool && candidate.actions.includes(entry.action));
  return grant ? grant.position : located.source.position(['delegatesTo']);
}
