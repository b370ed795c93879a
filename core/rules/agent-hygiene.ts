import { dayOf } from '../dates';
import type { AgentDoc, Effect } from '../documents';
import type { Finding } from '../finding';
import { coversEveryResource } from '../globs';
import type { Grant, Located, Model } from '../model';
import { isExpired } from '../model';
import { newFinding } from '../rule-catalog';

const WRITE_LIKE: ReadonlySet<Effect> = new Set(['write', 'delete', 'execute', 'egress']);
const DESTRUCTIVE: ReadonlySet<Effect> = new Set(['delete', 'execute']);

/**
 * The per-agent hygiene rules: missing-owner, review-overdue, grant-expired,
 * inactive-agent-grants, exception-expired, ungated-destructive,
 * wildcard-write and unvetted-tool, for one agent.
 */
export function agentHygieneFindings(model: Model, located: Located<AgentDoc>): Finding[] {
  const findings: Finding[] = [];
  const { doc, source, subject } = located;
  const active = doc.status === 'active';
  if (active) {
    const owner = model.people.get(doc.owner);
    if (owner && owner.doc.github === undefined) {
      findings.push(newFinding('missing-owner', `owner '${doc.owner}' has no github login, so nobody can approve changes to this agent`, source.position(['owner']), subject));
    }
    reviewOverdue(model, located, findings);
  }
  if (doc.status === 'retired' && doc.permissions.length > 0) {
    findings.push(newFinding('inactive-agent-grants', `retired agent still lists ${doc.permissions.length} permission(s); remove them`, source.position(['permissions']), subject));
  }
  doc.exceptions?.forEach((exception, index) => {
    if (dayOf(exception.expires) < model.today) {
      const what = exception.guardrail ? `guardrail ${exception.guardrail}` : exception.rule;
      findings.push(newFinding('exception-expired', `exception for ${what} expired on ${exception.expires}; its findings count again`, source.position(['exceptions', index, 'expires']), subject));
    }
  });
  for (const grant of model.grants.get(doc.id) ?? []) checkGrant(model, located, grant, findings);
  return findings;
}

function reviewOverdue(model: Model, { doc, source, subject }: Located<AgentDoc>, findings: Finding[]): void {
  if (doc.lastReviewed === undefined) {
    findings.push(newFinding('review-overdue', 'active agent has never been reviewed (no lastReviewed)', source.position(['id']), subject));
    return;
  }
  const age = model.today - dayOf(doc.lastReviewed);
  if (age > model.config.reviewIntervalDays) {
    findings.push(newFinding('review-overdue', `last reviewed ${age} days ago (${doc.lastReviewed}); reviews are due every ${model.config.reviewIntervalDays} days`, source.position(['lastReviewed']), subject));
  }
}

function checkGrant(model: Model, { doc, source, subject }: Located<AgentDoc>, grant: Grant, findings: Finding[]): void {
  const path = ['permissions', grant.index];
  if (isExpired(grant, model.today)) {
    findings.push(newFinding('grant-expired', `grant on ${grant.tool} expired on ${doc.permissions[grant.index]!.expires}; it is void`, source.position([...path, 'expires']), subject));
    return;
  }
  const tool = model.tools.get(grant.tool)!.doc;
  const effectOf = (action: string): Effect => tool.actions[action]!.effect;
  if (doc.status === 'active') {
    const vetting = tool.vetting?.status;
    if (vetting === 'pending' || vetting === 'rejected') {
      findings.push(newFinding('unvetted-tool', `active agent is granted tool \`${tool.id}\` whose vetting is ${vetting}`, source.position([...path, 'tool']), subject));
    } else if (vetting === undefined && tool.thirdParty) {
      findings.push(newFinding('unvetted-tool', `active agent is granted third-party tool \`${tool.id}\`, which has no vetting record`, source.position([...path, 'tool']), subject));
    }
  }
  if (!grant.gated) {
    const destructive = grant.actions.filter((action) => DESTRUCTIVE.has(effectOf(action)));
    if (destructive.length > 0) {
      findings.push(newFinding('ungated-destructive', `${tool.id} ${destructive.join(', ')}: ${describeEffects(destructive, effectOf)} without a human approval; add approval: required`, source.position(path), subject));
    }
  }
  const writes = grant.actions.filter((action) => WRITE_LIKE.has(effectOf(action)));
  if (writes.length > 0 && coversEveryResource(grant.resources)) {
    findings.push(newFinding('wildcard-write', `${tool.id} ${writes.join(', ')}: ${describeEffects(writes, effectOf)} on every resource; scope it with resources`, source.position(grant.resources ? [...path, 'resources'] : path), subject));
  }
  const viaGlob = writes.filter((action) => grant.globActions.has(action));
  if (viaGlob.length > 0) {
    findings.push(newFinding('wildcard-write', `${tool.id} ${viaGlob.join(', ')}: ${describeEffects(viaGlob, effectOf)} granted through an action glob; list the actions by name`, source.position([...path, 'actions']), subject));
  }
}

function describeEffects(actions: string[], effectOf: (action: string) => Effect): string {
  return [...new Set(actions.map(effectOf))].join('/');
}
