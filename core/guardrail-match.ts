import type { AgentDoc, Effect, GuardrailDoc, Sensitivity, ToolDoc } from './documents';
import { expandActionPattern } from './globs';
import type { Located, Model } from './model';

/** A guardrail with its selectors prepared for fast repeated matching. */
export interface CompiledGuardrail {
  located: Located<GuardrailDoc>;
  effects?: Set<Effect>;
  tools?: Set<string>;
  /** Declared actions its `actions` globs reach, per tool. */
  actionsByTool?: Map<string, Set<string>>;
  dataClasses?: Set<string>;
  sensitivity?: Set<Sensitivity>;
  riskTiers?: Set<string>;
  agents?: Set<string>;
  teams?: Set<string>;
  toolTypes?: Set<string>;
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

function compileGuardrail(model: Model, located: Located<GuardrailDoc>): CompiledGuardrail {
  const { match } = located.doc;
  const set = <T>(values: T[] | undefined): Set<T> | undefined => (values ? new Set(values) : undefined);
  let actionsByTool: Map<string, Set<string>> | undefined;
  if (match.actions) {
    actionsByTool = new Map();
    const tools = match.tools ?? [...model.tools.keys()];
    for (const toolId of tools) {
      const declared = Object.keys(model.tools.get(toolId)?.doc.actions ?? {});
      const reached = new Set(match.actions.flatMap((pattern) => expandActionPattern(pattern, declared)));
      actionsByTool.set(toolId, reached);
    }
  }
  return {
    located,
    effects: set(match.effects),
    tools: set(match.tools),
    actionsByTool,
    dataClasses: set(match.dataClasses),
    sensitivity: set(match.sensitivity),
    riskTiers: set(match.riskTiers),
    agents: set(match.agents),
    teams: set(match.teams),
    toolTypes: set(match.toolTypes),
  };
}

/** Whether every selector a guardrail gives matches this agent calling this tool action. */
export function guardrailSelects(model: Model, guardrail: CompiledGuardrail, agent: AgentDoc, tool: ToolDoc, action: string): boolean {
  if (guardrail.agents && !guardrail.agents.has(agent.id)) return false;
  if (guardrail.teams && (agent.team === undefined || !guardrail.teams.has(agent.team))) return false;
  if (guardrail.riskTiers && !guardrail.riskTiers.has(agent.riskTier)) return false;
  if (guardrail.tools && !guardrail.tools.has(tool.id)) return false;
  if (guardrail.toolTypes && !guardrail.toolTypes.has(tool.type)) return false;
  if (guardrail.actionsByTool && !guardrail.actionsByTool.get(tool.id)?.has(action)) return false;
  const definition = tool.actions[action];
  if (!definition) return false;
  if (guardrail.effects && !guardrail.effects.has(definition.effect)) return false;
  const data = definition.data ?? [];
  if (guardrail.dataClasses && !data.some((dataClass) => guardrail.dataClasses!.has(dataClass))) return false;
  if (guardrail.sensitivity) {
    const touched = data.some((dataClass) => {
      const sensitivity = model.dataClasses.get(dataClass)?.doc.sensitivity;
      return sensitivity !== undefined && guardrail.sensitivity!.has(sensitivity);
    });
    if (!touched) return false;
  }
  return true;
}
