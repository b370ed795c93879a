import { dayOf } from '../dates';
import type { Finding } from '../finding';
import type { Model } from '../model';
import { isRuleId, ruleDefinition } from '../rule-catalog';

/** Marks findings waived by an unexpired exception of their subject agent (FORMAT.md, Exceptions). */
export function applyExceptions(model: Model, findings: Finding[]): void {
  for (const finding of findings) {
    if (!finding.subject.startsWith('agent:') || !isRuleId(finding.rule) || ruleDefinition(finding.rule).fixed) continue;
    const agent = model.agents.get(finding.subject.slice('agent:'.length));
    const exception = agent?.doc.exceptions?.find(
      (candidate) =>
        candidate.rule === finding.rule &&
        (finding.rule !== 'guardrail' || candidate.guardrail === finding.guardrail) &&
        dayOf(candidate.expires) >= model.today,
    );
    if (exception) {
      finding.waived = { reason: exception.reason, approvedBy: exception.approvedBy, expires: exception.expires };
    }
  }
}
