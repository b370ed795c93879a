import type { AgentMemo } from './agent-memo';
import type { AgentDoc, Effect, RiskTier } from './documents';
import { sensitivityRank, tierAt } from './documents';
import { guardrailsForAgent } from './guardrail-match';
import { compareStrings } from './finding';
import type { Model } from './model';
import { denyCoversEverything, isExpired } from './model';
import { pairKey } from './pair-key';

/** One (tool, action) pair an agent can reach (FORMAT.md, Effective capability). */
export interface CapabilityEntry {
  tool: string;
  action: string;
  effect: Effect;
  data: string[];
  /** Every grant reaching it is approval-gated (by the grant or a guardrail). */
  gated: boolean;
  /** Agents whose own grants reach it: the agent itself and/or delegates. */
  via: string[];
}

/** An agent's effective capability and the facts the risk rules need. */
export interface Capability {
  agent: string;
  entries: Map<string, CapabilityEntry>;
  /** Exposed to untrusted content: own or a delegate's exposure, or a reachable tool's content. */
  untrustedExposure: boolean;
}

const DESTRUCTIVE: ReadonlySet<Effect> = new Set(['delete', 'execute', 'egress']);
/** The data of an action that declares none, one array for every entry (entries are never mutated). */
const NO_DATA: string[] = [];


/**
 * Effective capability of every agent, delegation closure included: the union
 * of its own capability and that of every agent it reaches through delegation
 * (not through suspended or retired agents). Computed per agent over the
 * reachable set, so cycles and document order cannot change the result.
 * Own capabilities, and closures over the same own capabilities, are
 * remembered in `memo` (see agent-memo.ts).
 */
export function computeCapabilities(model: Model, memo: AgentMemo): Map<string, Capability> {
  const own = new Map<string, Capability>();
  for (const agent of model.agents.values()) {
    const results = memo.of(agent.doc);
    results.own ??= ownCapability(model, agent.doc);
    own.set(agent.doc.id, results.own);
  }
  const closed = new Map<string, Capability>();
  for (const [agentId, located] of model.agents) {
    const reachable = reachableDelegates(model, agentId);
    if (reachable.length === 0) {
      closed.set(agentId, own.get(agentId)!);
      continue;
    }
    const parts = [own.get(agentId)!, ...reachable.map((delegateId) => own.get(delegateId)!)];
    const results = memo.of(located.doc);
    const remembered = results.closed;
    if (remembered && remembered.parts.length === parts.length && remembered.parts.every((part, index) => part === parts[index])) {
      closed.set(agentId, remembered.capability);
      continue;
    }
    const capability = closeOver(agentId, parts);
    results.closed = { parts, capability };
    closed.set(agentId, capability);
  }
  return closed;
}

/** The union of own capabilities, the agent's own first; an entry is gated only if every part reaching it is. */
function closeOver(agentId: string, [self, ...delegates]: Capability[]): Capability {
  const result: Capability = {
    agent: agentId,
    entries: new Map([...self!.entries].map(([key, entry]) => [key, { ...entry, via: [...entry.via] }])),
    untrustedExposure: self!.untrustedExposure,
  };
  for (const reached of delegates) {
    result.untrustedExposure ||= reached.untrustedExposure;
    for (const [key, entry] of reached.entries) {
      const held = result.entries.get(key);
      if (!held) result.entries.set(key, { ...entry, via: [...entry.via] });
      else {
        held.gated &&= entry.gated;
        held.via.push(...entry.via);
      }
    }
  }
  return result;
}

/** Agents reachable from `agentId` by delegation, not through suspended or retired ones, sorted; itself excluded. */
function reachableDelegates(model: Model, agentId: string): string[] {
  const seen = new Set<string>([agentId]);
  const pending = [agentId];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    for (const delegateId of model.agents.get(current)?.doc.delegatesTo ?? []) {
      const delegate = model.agents.get(delegateId);
      if (!delegate || seen.has(delegateId)) continue;
      if (delegate.doc.status === 'suspended' || delegate.doc.status === 'retired') continue;
      seen.add(delegateId);
      pending.push(delegateId);
    }
  }
  seen.delete(agentId);
  return [...seen].sort(compareStrings);
}

function ownCapability(model: Model, agent: AgentDoc): Capability {
  const entries = new Map<string, CapabilityEntry>();
  const guardrails = guardrailsForAgent(model, agent);
  const denies = (model.denies.get(agent.id) ?? []).filter(denyCoversEverything);
  let untrustedExposure = agent.exposure?.untrustedInput === true;
  // One `via` array for all own entries (a repository has ~60 per agent); the closure copies before merging.
  const via = [agent.id];
  for (const grant of model.grants.get(agent.id) ?? []) {
    if (isExpired(grant, model.today)) continue;
    const tool = model.tools.get(grant.tool)!.doc;
    if (tool.vetting?.status === 'rejected') continue;
    for (const action of grant.actions) {
      if (denies.some((deny) => deny.tool === grant.tool && deny.actions.includes(action))) continue;
      const key = pairKey(grant.tool, action);
      let forbidden = false;
      let gated = grant.gated;
      for (const guardrail of guardrails) {
        if (!guardrail.pairs.has(key)) continue;
        forbidden ||= guardrail.located.doc.require.forbid === true;
        gated ||= guardrail.located.doc.require.approval === 'required';
      }
      if (forbidden) continue;
      const held = entries.get(key);
      if (held) {
        held.gated &&= gated;
        continue;
      }
      const definition = tool.actions[action]!;
      entries.set(key, { tool: grant.tool, action, effect: definition.effect, data: definition.data ?? NO_DATA, gated, via });
      untrustedExposure ||= tool.untrustedContent === true;
    }
  }
  return { agent: agent.id, entries, untrustedExposure };
}

/** The highest sensitivity rank among an entry's data classes (-1 when it touches none). */
function highestSensitivity(model: Model, entry: CapabilityEntry): number {
  let highest = -1;
  for (const dataClass of entry.data) {
    const sensitivity = model.dataClasses.get(dataClass)?.doc.sensitivity;
    if (sensitivity !== undefined) highest = Math.max(highest, sensitivityRank(sensitivity));
  }
  return highest;
}

const CONFIDENTIAL = sensitivityRank('confidential');
const RESTRICTED = sensitivityRank('restricted');

/** The three legs of the lethal trifecta (FORMAT.md, Meaning), each with an example pair. */
export interface TrifectaLegs {
  sensitiveRead?: CapabilityEntry;
  untrusted: boolean;
  ungatedEgress?: CapabilityEntry;
}

/** Which legs of the lethal trifecta an agent's capability has. */
export function trifectaLegs(model: Model, capability: Capability): TrifectaLegs {
  let sensitiveRead: CapabilityEntry | undefined;
  let ungatedEgress: CapabilityEntry | undefined;
  // The smallest (tool, action) of each leg, so messages do not depend on document order.
  for (const [key, entry] of capability.entries) {
    if (entry.effect === 'read' && highestSensitivity(model, entry) >= CONFIDENTIAL && (!sensitiveRead || key < pairKey(sensitiveRead.tool, sensitiveRead.action))) sensitiveRead = entry;
    if (entry.effect === 'egress' && !entry.gated && (!ungatedEgress || key < pairKey(ungatedEgress.tool, ungatedEgress.action))) ungatedEgress = entry;
  }
  return { sensitiveRead, untrusted: capability.untrustedExposure, ungatedEgress };
}

/** Whether all three legs are present. */
export function hasLethalTrifecta(legs: TrifectaLegs): boolean {
  return legs.sensitiveRead !== undefined && legs.untrusted && legs.ungatedEgress !== undefined;
}

/** A computed tier and the capability that drives it, for messages. */
export interface ComputedTier {
  tier: RiskTier;
  because: string;
}

/** The risk tier computed from effective capability (FORMAT.md, the table under Meaning). */
export function computedTier(model: Model, capability: Capability): ComputedTier {
  if (hasLethalTrifecta(trifectaLegs(model, capability))) return { tier: 'critical', because: 'it is in a lethal trifecta' };
  let rank = 0;
  let because = 'it has no write access and reads no confidential data';
  let becauseKey = '';
  // Of the pairs that set the tier, the reason names the smallest (tool, action): order-independent.
  const raise = (to: number, reason: string, key: string): void => {
    if (to > rank || (to === rank && key < becauseKey)) {
      rank = to;
      because = reason;
      becauseKey = key;
    }
  };
  for (const [key, entry] of capability.entries) {
    const sensitivity = highestSensitivity(model, entry);
    const name = `${entry.tool} ${entry.action}`;
    if (DESTRUCTIVE.has(entry.effect) && !entry.gated) {
      if (sensitivity >= RESTRICTED) raise(3, `${name} is an ungated ${entry.effect} touching restricted data`, key);
      else raise(2, `${name} is an ungated ${entry.effect}`, key);
    } else if (sensitivity >= RESTRICTED) {
      raise(2, `${name} touches restricted data`, key);
    } else if (entry.effect !== 'read') {
      raise(1, `${name} is a${entry.gated && entry.effect !== 'write' ? ' gated' : ''} ${entry.effect}`, key);
    } else if (sensitivity >= CONFIDENTIAL) {
      raise(1, `${name} reads confidential data`, key);
    }
  }
  return { tier: tierAt(rank), because };
}
