// The decide throughput figure (BENCH.md): decisions per second of mandate's
// `decide` against cedar-wasm's `statefulIsAuthorized` on the exported Cedar
// policies (`mandate export cedar`), one preparsed policy set per agent, on
// the same calls of the generated repository. Cedar answers a call with one
// request, or two when the first is not permitted (see core/cedar-request.ts);
// both sides count decisions, and their decisions must be identical.
//
// Requests for Cedar are built before the clock starts (they depend only on
// the call), so Cedar is timed on authorization alone.

import { setFlagsFromString } from 'node:v8';
import type * as Cedar from '@cedar-policy/cedar-wasm/nodejs';
import { agentPolicySet, cedarEncoding } from '../core/cedar-export';
import type { CedarCall, CedarRequest } from '../core/cedar-request';
import { cedarCall, cedarDecision } from '../core/cedar-request';
import { dayOfInstant } from '../core/dates';
import type { Call, DecisionValue } from '../core/decide';
import { decide, decisionIndex } from '../core/decide';
import { fileSystemTree } from '../core/fs-tree';
import type { Model } from '../core/model';
import { loadSnapshot } from '../core/validate';
import { Rng } from './generate';
import { formatCount, formatMs } from './measure';

/** BENCH.md: decide makes at least this many times Cedar's decisions per second. */
export const DECIDE_TARGET = 50;

export interface DecideBenchOptions {
  /** The generated repository. */
  dir: string;
  agents: number;
  /** "Today" for loading and deciding. */
  now: Date;
  seed: number;
  /** Interleaved runs per side; the best of each counts. */
  runs: number;
  /** Calls decide times per run. */
  decideCalls: number;
  /** The first this many of those calls go to Cedar too. */
  cedarCalls: number;
}

export interface DecideBenchResult {
  decidePerSecond: number;
  cedarPerSecond: number;
  ratio: number;
  mismatches: number;
  failed: number;
}

/** Loads cedar-wasm at run time (not bundled: its glue reads the .wasm file next to itself). */
async function loadCedar(): Promise<typeof Cedar> {
  // Node 20's V8 aborts ("unreachable code" in the deoptimizer) when it lazily
  // deoptimizes a function into which it inlined a JS-to-Wasm call.
  setFlagsFromString('--no-turbo-inline-js-wasm-calls');
  return (await import(['@cedar-policy', 'cedar-wasm', 'nodejs'].join('/'))) as typeof Cedar;
}

/**
 * Calls the way a runtime makes them: mostly inside one of the agent's
 * grants (a resource instantiated from its pattern, sometimes one level
 * deeper or shallower, or none), some on any action of any tool. Only known
 * agents (by id or alias), tools and actions, so every call reaches Cedar.
 */
export function benchCalls(model: Model, count: number, seed: number): Call[] {
  const rng = new Rng(seed);
  const agents = [...model.agents.values()].map((located) => located.doc);
  const tools = [...model.tools.values()].map((located) => located.doc);
  const calls: Call[] = [];
  while (calls.length < count) {
    const agent = rng.pick(agents);
    const name = agent.aliases?.length && rng.chance(0.2) ? rng.pick(agent.aliases) : agent.id;
    const grants = (model.grants.get(agent.id) ?? []).filter((grant) => grant.actions.length > 0);
    if (grants.length === 0 || rng.chance(0.1)) {
      const tool = rng.pick(tools);
      calls.push({ agent: name, tool: tool.id, action: rng.pick(Object.keys(tool.actions)), resource: `tenant/t${rng.int(100)}/x` });
      continue;
    }
    const grant = rng.pick(grants);
    const action = rng.pick(grant.actions);
    const resource = grant.resources && !rng.chance(0.05) ? instantiate(rng, rng.pick(grant.resources)) : undefined;
    calls.push(resource === undefined ? { agent: name, tool: grant.tool, action } : { agent: name, tool: grant.tool, action, resource });
  }
  return calls;
}

function instantiate(rng: Rng, pattern: string): string {
  const anyDepth = pattern === '**' || pattern.endsWith('/**');
  const body = pattern === '**' ? 'any' : anyDepth ? pattern.slice(0, -3) : pattern;
  const segments = body.split('/').map((segment) => segment.replace(/\*/g, () => rng.pick(['a', 'eu', 'p7', 'x1'])));
  if (anyDepth) for (let extra = rng.int(3); extra > 0; extra--) segments.push(`r${rng.int(50)}`);
  const roll = rng.float();
  if (roll < 0.1) segments.push('deeper');
  else if (roll < 0.2 && segments.length > 1) segments.pop();
  return segments.join('/');
}

/** Runs the figure and prints it; `failed` counts a missed target and any decision that differs. */
export async function runDecideBench(options: DecideBenchOptions): Promise<DecideBenchResult> {
  const cedar = await loadCedar();
  const setupStart = performance.now();
  const snapshot = await loadSnapshot(fileSystemTree(options.dir), { now: options.now });
  const { model } = snapshot;
  const day = dayOfInstant(options.now);
  const loaded = performance.now();
  const index = decisionIndex(model);
  const indexed = performance.now();
  const encoding = cedarEncoding(model);
  const exported = performance.now();
  for (const agent of encoding.agents.keys()) {
    const answer = cedar.preparsePolicySet(agent, { staticPolicies: agentPolicySet(encoding, agent) });
    if (answer.type !== 'success') throw new Error(`cedar cannot parse the policies of ${agent}: ${JSON.stringify(answer.errors)}`);
  }
  const preparsed = performance.now();
  console.error(
    `decide bench, ${formatCount(options.agents)} agents: load ${formatMs(loaded - setupStart)}, decision index ${formatMs(indexed - loaded)}, ` +
      `Cedar export ${formatMs(exported - indexed)}, preparse ${formatCount(encoding.agents.size)} policy sets ${formatMs(preparsed - exported)}`,
  );

  const calls = benchCalls(model, options.decideCalls, options.seed);
  const cedarCount = Math.min(options.cedarCalls, calls.length);
  const translated: CedarCall[] = calls.slice(0, cedarCount).map((call) => cedarCall(index, encoding, call, day));
  const permits = (agent: string, request: CedarRequest): boolean => {
    const answer = cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: agent });
    if (answer.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
    return answer.response.decision === 'allow';
  };

  // Identical decisions on the Cedar subset (also warms both sides up).
  const tally = new Map<DecisionValue, number>();
  const examples: string[] = [];
  let mismatches = 0;
  translated.forEach((cedarSide, i) => {
    const expected = decide(index, calls[i]!, day).decision;
    const got = cedarDecision(cedarSide, permits);
    tally.set(expected, (tally.get(expected) ?? 0) + 1);
    if (got === expected) return;
    mismatches++;
    if (examples.length < 5) examples.push(`${JSON.stringify(calls[i])}: decide ${expected}, Cedar ${got}`);
  });
  for (const call of calls) decide(index, call, day);

  let bestDecide = 0;
  let bestCedar = 0;
  let sink = 0;
  const timeDecide = (): void => {
    const start = performance.now();
    for (const call of calls) if (decide(index, call, day).decision === 'allow') sink++;
    bestDecide = Math.max(bestDecide, calls.length / ((performance.now() - start) / 1000));
  };
  const timeCedar = (): void => {
    const start = performance.now();
    for (const cedarSide of translated) if (cedarDecision(cedarSide, permits) === 'allow') sink++;
    bestCedar = Math.max(bestCedar, translated.length / ((performance.now() - start) / 1000));
  };
  for (let run = 0; run < options.runs; run++) {
    (globalThis as { gc?: () => void }).gc?.();
    if (run % 2 === 0) { timeDecide(); timeCedar(); } else { timeCedar(); timeDecide(); }
  }

  const ratio = bestCedar > 0 ? bestDecide / bestCedar : Number.POSITIVE_INFINITY;
  const pass = ratio >= DECIDE_TARGET && mismatches === 0;
  const rate = (perSecond: number): string => `${formatCount(Math.round(perSecond))}/s`;
  const mix = [...tally].map(([decision, n]) => `${decision} ${formatCount(n)}`).join(', ');
  console.log('');
  console.log(`decide throughput, ${formatCount(options.agents)} agents (best of ${options.runs} interleaved runs, seed ${options.seed})`);
  console.log(`  decide (mandate)                ${rate(bestDecide).padStart(14)}   ${formatCount(calls.length)} calls per run`);
  console.log(`  Cedar statefulIsAuthorized      ${rate(bestCedar).padStart(14)}   ${formatCount(translated.length)} calls per run, one preparsed set per agent`);
  console.log(`  ratio ${ratio.toFixed(1)}x   target >= ${DECIDE_TARGET}x   ${pass ? 'PASS' : 'FAIL'}`);
  console.log(`  identical decisions on the ${formatCount(translated.length)} Cedar calls: ${mismatches === 0 ? 'yes' : `NO, ${formatCount(mismatches)} differ`} (${mix})`);
  for (const example of examples) console.log(`    ${example}`);
  if (sink < 0) console.log(sink);
  return { decidePerSecond: bestDecide, cedarPerSecond: bestCedar, ratio, mismatches, failed: pass ? 0 : 1 };
}
