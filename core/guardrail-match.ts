import type { AgentDoc, Effect, GuardrailDoc, Sensitivity } from './documents';
import { expandActionPattern } from './globs';
import type { Located, Model } from './model';
import { pairKey } from './pair-key';

/** A guardrail with its selectors prepared for fast repeated matching. */
export interface CompiledGuardrail {
  located: Located<GuardrailDoc>;
  /** `tool\0action` of every declared action its tool- and action-level selectors match. */
  pairs: Set<string>;
  riskTiers?: Set<string>;
  agents?: Set<string>;
  teams?: Set<string>;
}

const compiledByModel = new WeakMap<Model, CompiledGuardrail[]>();

/** The model's guardrails, compiled once per model, in id order. */
export function compiledGuardrails(model: Model): CompiledGuardrail[] {
  let compiled = compiledByModel.get(model);
  if (!compiled) {
    compiled = [...model.guardrails.values()].map((located) => compileGuardrail(model, located));
    compiledByModel.set(model, compiled);
  }
  return compiled;
}

/**
 * Evaluates the selectors that depend only on the tool action (tools, toolTypes,
 * actions, effects, dataClasses, sensitivity) once over every declared action,
 * so matching a call or a grant is two set look-ups.
 */
function compileGuardrail(model: Model, located: Located<GuardrailDoc>): CompiledGuardrail {
  const { match } = located.doc;
  const set = <T>(values: T[] | undefined): Set<T> | undefined => (values ? new Set(values) : undefined);
  const tools = set(match.tools);
  const toolTypes = set<string>(match.toolTypes);
  const effects = set<Effect>(match.effects);
  const dataClasses = set(match.dataClasses);
  const sensitivity = set<Sensitivity>(match.sensitivity);
  const pairs = new Set<string>();
  for (const { doc: tool } of model.tools.values()) {
    if (tools && !tools.has(tool.id)) continue;
    if (toolTypes && !toolTypes.has(tool.type)) continue;
    const declared = Object.keys(tool.actions);
    const reached = match.actions ? new Set(match.actions.flatMap((pattern) => expandActionPattern(pattern, declared))) : undefined;
    for (const action of declared) {
      if (reached && !reached.has(action)) continue;
      const definition = tool.actions[action]!;
      if (effects && !effects.has(definition.effect)) continue;
      const data = definition.data ?? [];
      if (dataClasses && !data.some((dataClass) => dataClasses.has(dataClass))) continue;
      if (sensitivity && !data.some((dataClass) => touches(model, dataClass, sensitivity))) continue;
      pairs.add(pairKey(tool.id, action));
    }
  }
  return { located, pairs, riskTiers: set(match.riskTiers), agents: set(match.agents), teams: set(match.teams) };
}

function touches(model: Model, dataClass: string, sensitivity: Set<Sensitivity>): boolean {
  const level = model.dataClasses.get(dataClass)?.doc.sensitivity;
  return level !== undefined && sensitivity.has(level);
}

/** Whether a guardrail's agent-level selectors (agents, teams, riskTiers) match an agent. */
export function selectsAgent(guardrail: CompiledGuardrail, agent: AgentDoc): boolean {
  if (guardrail.agents && !guardrail.agents.has(agent.id)) return false;
  if (guardrail.teams && (agent.team === undefined || !guardrail.teams.has(agent.team))) return false;
  return !guardrail.riskTiers || guardrail.riskTiers.has(agent.riskTier);
}

/** The guardrails whose agent-level selectors match an agent; then only `pairs` needs checking. */
export function guardrailsForAgent(model: Model, agent: AgentDoc): CompiledGuardrail[] {
  return compiledGuardrails(model).filter((guardrail) => selectsAgent(guardrail, agent));
}

/** Whether every selector a guardrail gives matches this agent calling this tool action. */
export function guardrailSelects(guardrail: CompiledGuardrail, agent: AgentDoc, tool: string, action: string): boolean {
  return selectsAgent(guardrail, agent) && guardrail.pairs.has(pairKey(tool, action));
}
