/**
 * Asking Cedar what mandate would decide: a call becomes at most two Cedar
 * requests against the export (see the header of policies.cedar), and their
 * answers become `allow`, `approval` or `deny`.
 */

import type { CedarEncoding } from './cedar-export';
import { actionId } from './cedar-export';
import { resourceEntity } from './cedar-resource';
import type { CedarEntity, CedarEntityUid } from './cedar-syntax';
import type { DayNumber } from './dates';
import type { Call, DecisionIndex, DecisionValue } from './decide';

/** One Cedar authorization request in cedar-wasm's JSON shape. */
export interface CedarRequest {
  principal: CedarEntityUid;
  action: CedarEntityUid;
  resource: CedarEntityUid;
  context: { day: number; approved: boolean };
  entities: CedarEntity[];
}

/** A call as Cedar sees it: the agent whose policy set applies and the two requests; or rejected before Cedar. */
export type CedarCall =
  | { rejected: string }
  | { agent: string; unapproved: CedarRequest; approved: CedarRequest };

/** Resolves the call's agent (id or alias) and rejects unknown agents, tools and actions, as mandate does before Cedar. */
export function cedarCall(index: DecisionIndex, encoding: CedarEncoding, call: Call, day: DayNumber): CedarCall {
  const agent = index.names.get(call.agent);
  const principal = agent === undefined ? undefined : encoding.agentEntities.get(agent);
  if (agent === undefined || !principal) return { rejected: `unknown agent '${call.agent}'` };
  const tool = index.model.tools.get(call.tool)?.doc;
  if (!tool) return { rejected: `unknown tool '${call.tool}'` };
  if (!Object.hasOwn(tool.actions, call.action)) return { rejected: `unknown action '${call.action}' of tool '${call.tool}'` };
  const resource = resourceEntity(call.resource, encoding.slots);
  const request = (approved: boolean): CedarRequest => ({
    principal: principal.uid,
    action: { type: 'Action', id: actionId(call.tool, call.action) },
    resource: resource.uid,
    context: { day, approved },
    entities: [principal, resource],
  });
  return { agent, unapproved: request(false), approved: request(true) };
}

/**
 * mandate's decision from Cedar's answers: permitted without approval is
 * `allow`; else permitted with approval is `approval`; else `deny`.
 * `permits` is asked the second question only when the first is no.
 */
export function cedarDecision(call: CedarCall, permits: (agent: string, request: CedarRequest) => boolean): DecisionValue {
  if ('rejected' in call) return 'deny';
  if (permits(call.agent, call.unapproved)) return 'allow';
  return permits(call.agent, call.approved) ? 'approval' : 'deny';
}
