/**
 * Scenario files (`kind: Scenario`, CLI.md `mandate test`): calls with the
 * decision the policy must reach for them. Pure: the caller reads the bytes
 * and loads the repository; this module parses, runs and judges.
 */
import type { DayNumber } from './dates';
import { dayOf, formatDay } from './dates';
import type { Call, Decision, DecisionValue } from './decide';
import { decide, decisionIndex } from './decide';
import type { Finding } from './finding';
import { compareFindings } from './finding';
import type { Model } from './model';
import { newFinding } from './rule-catalog';
import { loadFile } from './validate';
import type { ParseLimits } from './yaml-safe';
import { DEFAULT_PARSE_LIMITS } from './yaml-safe';

/** One expectation: a call and the decision it must get. */
export interface ScenarioCase {
  /** The id of the Scenario document it belongs to. */
  scenario: string;
  file: string;
  /** Where the case starts in its file (1-based). */
  line: number;
  column: number;
  /** 0-based position in the scenario's `cases`. */
  index: number;
  name?: string;
  call: Call;
  expect: DecisionValue;
  /** A substring the decision's reason must contain. */
  reason?: string;
  /** The case's own `at`, else its scenario's; undefined means "today". */
  at?: string;
}

/** One Scenario document. */
export interface Scenario {
  id: string;
  file: string;
  line: number;
  description?: string;
  at?: string;
  cases: ScenarioCase[];
}

/** The scenarios of one file, in file order. */
export interface ScenarioFile {
  file: string;
  scenarios: Scenario[];
}

/** A scenario file read: its scenarios, or the problems that make it unusable (sorted; never empty on failure). */
export type ScenarioFileLoad = { ok: true; scenarios: ScenarioFile } | { ok: false; problems: Finding[] };

interface ScenarioDoc {
  id: string;
  description?: string;
  at?: string;
  cases: { name?: string; call: Call; expect: DecisionValue; reason?: string; at?: string }[];
}

/**
 * Parses and shape-checks one scenario file with the loader governance files
 * use (same YAML limits, same schema messages and positions). Any YAML,
 * key or schema problem makes the whole file unusable. Credential-shaped
 * strings are not a problem here: scenario files are test data, and every
 * output is redacted anyway.
 */
export function parseScenarioFile(file: string, bytes: Uint8Array, limits: ParseLimits = DEFAULT_PARSE_LIMITS): ScenarioFileLoad {
  const loaded = loadFile(file, bytes, 'scenarios', limits);
  const problems = loaded.findings.filter((finding) => finding.rule !== 'secret-in-policy').sort(compareFindings);
  if (problems.length > 0) return { ok: false, problems };
  if (loaded.accepted.length === 0) {
    return { ok: false, problems: [newFinding('empty-file', 'file holds no Scenario document', { file, line: 1, column: 1 }, 'file')] };
  }
  const scenarios = loaded.accepted.map((source): Scenario => {
    const doc = source.value as ScenarioDoc;
    const cases = doc.cases.map((entry, index): ScenarioCase => {
      const position = source.position(['cases', index]);
      const call: Call = { agent: entry.call.agent, tool: entry.call.tool, action: entry.call.action };
      if (entry.call.resource !== undefined) call.resource = entry.call.resource;
      const at = entry.at ?? doc.at;
      return {
        scenario: doc.id,
        file,
        line: position.line,
        column: position.column,
        index,
        ...(entry.name !== undefined ? { name: entry.name } : {}),
        call,
        expect: entry.expect,
        ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
        ...(at !== undefined ? { at } : {}),
      };
    });
    return {
      id: doc.id,
      file,
      line: source.position([]).line,
      ...(doc.description !== undefined ? { description: doc.description } : {}),
      ...(doc.at !== undefined ? { at: doc.at } : {}),
      cases,
    };
  });
  return { ok: true, scenarios: { file, scenarios } };
}

/** A case with the decision it got. */
export interface CaseResult {
  case: ScenarioCase;
  /** The day it was decided on, `YYYY-MM-DD`. */
  at: string;
  decision: Decision;
  passed: boolean;
  /** Why it failed: the decision differs, or the reason lacks the expected text. */
  mismatch?: 'decision' | 'reason';
}

/** Every case of every file, in file and case order, with the counts. */
export interface ScenarioRun {
  files: ScenarioFile[];
  results: CaseResult[];
  passed: number;
  failed: number;
}

/** Decides every case on the model; a case's `at` beats its scenario's, which beats `today`. */
export function runScenarios(model: Model, files: readonly ScenarioFile[], today: DayNumber): ScenarioRun {
  const index = decisionIndex(model);
  const results: CaseResult[] = [];
  for (const file of files) {
    for (const scenario of file.scenarios) {
      for (const entry of scenario.cases) {
        const day = entry.at === undefined ? today : dayOf(entry.at);
        const decision = decide(index, entry.call, day);
        const mismatch = decision.decision !== entry.expect
          ? 'decision'
          : entry.reason !== undefined && !decision.reason.includes(entry.reason) ? 'reason' : undefined;
        results.push({ case: entry, at: formatDay(day), decision, passed: mismatch === undefined, ...(mismatch ? { mismatch } : {}) });
      }
    }
  }
  const passed = results.filter((result) => result.passed).length;
  return { files: [...files], results, passed, failed: results.length - passed };
}

/** `agent tool:action resource`, the way `mandate check` takes a call. */
export function describeCall(call: Call): string {
  return `${call.agent} ${call.tool}:${call.action}${call.resource === undefined ? '' : ` ${call.resource}`}`;
}

/** One line saying why a case failed: `expected deny, got allow (reason: ...)`. */
export function describeFailure(result: CaseResult): string {
  const { case: entry, decision } = result;
  if (result.mismatch === 'reason') {
    return `expected ${entry.expect} with a reason containing "${entry.reason}", got ${decision.decision} (reason: ${decision.reason})`;
  }
  return `expected ${entry.expect}, got ${decision.decision} (reason: ${decision.reason})`;
}
