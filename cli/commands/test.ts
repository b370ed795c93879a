import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { dayOfInstant } from '../../core/dates';
import { compareStrings } from '../../core/finding';
import { fileSystemTree } from '../../core/fs-tree';
import type { CaseResult, ScenarioFile, ScenarioRun } from '../../core/scenarios';
import { describeCall, describeFailure, parseScenarioFile, runScenarios } from '../../core/scenarios';
import { isYamlName } from '../../core/source-tree';
import { loadSnapshot } from '../../core/validate';
import type { GlobalOptions } from '../context';
import { currentTime, fileLoader, repositoryRoot, requireFormat } from '../context';
import type { Palette } from '../output';
import { paletteFor, UsageError, writeOutput } from '../output';
import { codeSpan, escapeMarkdown } from '../render/markdown-escape';
import { warnAboutErrors } from './check';
import { xmlAttribute, xmlText } from '../render/xml';

/** Where scenario files live when `mandate test` is given no PATH (FORMAT.md, Files). */
export const DEFAULT_SCENARIO_DIR = 'test/scenarios';

/** The arguments of `mandate test [PATH]`. */
export interface TestOptions extends GlobalOptions {
  path?: string;
}

/**
 * `mandate test [PATH]`: runs scenario files (a file, or every `*.yaml` /
 * `*.yml` under a directory; default `test/scenarios/` in the repository).
 * Exit 1 when a case fails; exit 2 when PATH is missing or a scenario file
 * is malformed, naming `file:line:column`.
 */
export async function runTest(options: TestOptions): Promise<number> {
  const format = requireFormat(options.format, ['text', 'json', 'markdown', 'junit'] as const);
  const root = await repositoryRoot(options.repo);
  const target = options.path === undefined ? join(root, DEFAULT_SCENARIO_DIR) : resolve(options.path);
  const shown = (path: string): string => displayPath(root, path);
  const paths = await scenarioPaths(target, shown);
  const now = currentTime();
  const snapshot = await loadSnapshot(fileSystemTree(root), { now, loader: fileLoader() });
  const files: ScenarioFile[] = [];
  for (const path of paths) {
    const name = shown(path);
    const bytes = await readScenario(path, name, snapshot.config.maxFileBytes);
    const loaded = parseScenarioFile(name, bytes);
    if (!loaded.ok) {
      const [first, ...rest] = loaded.problems;
      const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'} in this file)` : '';
      throw new UsageError(`${first!.file}:${first!.line}:${first!.column}: ${first!.message} (${first!.rule})${more}`);
    }
    files.push(loaded.scenarios);
  }
  warnAboutErrors(snapshot);
  const run = runScenarios(snapshot.model, files, dayOfInstant(now));
  switch (format) {
    case 'json': writeOutput(testJson(run)); break;
    case 'markdown': writeOutput(testMarkdown(run)); break;
    case 'junit': writeOutput(testJunit(run)); break;
    case 'text': writeOutput(testText(run, paletteFor(process.stdout))); break;
  }
  return run.failed > 0 ? 1 : 0;
}

/** A path as the output names it: relative to the repository when inside it, else relative to the working directory. */
function displayPath(root: string, path: string): string {
  const inside = relative(root, path);
  const chosen = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : relative(process.cwd(), path) || '.';
  return chosen.split(sep).join('/');
}

/** The scenario files PATH names, sorted; a missing PATH or an empty directory is a usage error. */
async function scenarioPaths(target: string, shown: (path: string) => string): Promise<string[]> {
  const stats = await stat(target).catch(() => undefined);
  if (!stats) throw new UsageError(`${shown(target)}: no such file or directory`);
  if (stats.isFile()) return [target];
  if (!stats.isDirectory()) throw new UsageError(`${shown(target)}: not a file or directory`);
  const found: string[] = [];
  const pending = [target];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    const children = await readdir(directory, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`${shown(directory!)}: cannot read (${error.code ?? error.message})`);
    });
    for (const child of children) {
      const path = join(directory, child.name);
      if (child.isDirectory()) {
        if (child.name !== 'node_modules' && !child.name.startsWith('.')) pending.push(path);
      } else if (isYamlName(child.name) && (child.isFile() || (child.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()))) {
        found.push(path);
      }
    }
  }
  if (found.length === 0) throw new UsageError(`${shown(target)}: no scenario files (*.yaml, *.yml)`);
  return found.sort((a, b) => compareStrings(shown(a), shown(b)));
}

async function readScenario(path: string, name: string, maxBytes: number): Promise<Uint8Array> {
  const stats = await stat(path).catch(() => undefined);
  if (stats && stats.size > maxBytes) throw new UsageError(`${name}: file is ${stats.size} bytes, over the ${maxBytes}-byte limit (maxFileBytes)`);
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`${name}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

function caseLabel(result: CaseResult): string {
  const { case: entry } = result;
  const call = describeCall(entry.call);
  return entry.name === undefined ? call : `${entry.name} (${call})`;
}

/** `N passed, N failed`, the closing line CI reads. */
function countsLine(run: ScenarioRun): string {
  return `${run.passed} passed, ${run.failed} failed`;
}

/** Like a test runner: cases grouped by file, ✓ or ✗ each, failures explained, then the counts on the last line (never coloured). */
export function testText(run: ScenarioRun, colors: Palette): string {
  const lines: string[] = [];
  let currentFile: string | undefined;
  for (const result of run.results) {
    const { case: entry } = result;
    if (entry.file !== currentFile) {
      if (currentFile !== undefined) lines.push('');
      lines.push(colors.underline(entry.file));
      currentFile = entry.file;
    }
    const head = `${colors.dim(`${entry.scenario}:`)} ${caseLabel(result)}`;
    if (result.passed) {
      lines.push(`  ${colors.green('✓')} ${head} ${colors.dim(`→ ${result.decision.decision}`)}`);
    } else {
      lines.push(`  ${colors.red('✗')} ${head}`);
      lines.push(`      ${colors.red(describeFailure(result))}`);
      lines.push(`      ${colors.dim(`at ${entry.file}:${entry.line}:${entry.column}, decided for ${result.at}`)}`);
    }
  }
  lines.push('', countsLine(run));
  return lines.join('\n');
}

/** The JSON document of CLI.md: counts and the failures, sorted by scenario, then file and line. */
export function testJson(run: ScenarioRun): string {
  const failures = run.results
    .filter((result) => !result.passed)
    .sort((a, b) => compareStrings(a.case.scenario, b.case.scenario) || compareStrings(a.case.file, b.case.file) || a.case.line - b.case.line)
    .map((result) => {
      const { case: entry, decision } = result;
      return {
        scenario: entry.scenario,
        call: entry.call,
        expected: entry.expect,
        actual: decision.decision,
        reason: decision.reason,
        ...(entry.reason !== undefined ? { expectedReason: entry.reason } : {}),
        ...(entry.name !== undefined ? { name: entry.name } : {}),
        message: describeFailure(result),
        at: result.at,
        file: entry.file,
        line: entry.line,
        column: entry.column,
      };
    });
  const scenarios = run.files.reduce((count, file) => count + file.scenarios.length, 0);
  return JSON.stringify({
    apiVersion: 'mandate/v1',
    passed: run.passed,
    failed: run.failed,
    failures,
    files: run.files.map((file) => file.file),
    scenarios,
  }, null, 2);
}

/** A short markdown summary with a table of the failures, everything from files escaped. */
export function testMarkdown(run: ScenarioRun): string {
  const lines = [`### mandate test: ${run.failed === 0 ? 'passed' : 'failed'}`, '', `${countsLine(run)}.`];
  const failures = run.results.filter((result) => !result.passed);
  if (failures.length > 0) {
    lines.push('', '| Scenario | Call | Expected | Actual | Reason | Location |', '| --- | --- | --- | --- | --- | --- |');
    for (const result of failures) {
      const { case: entry, decision } = result;
      const expected = entry.reason === undefined ? entry.expect : `${entry.expect} (reason containing ${entry.reason})`;
      lines.push(`| ${codeSpan(entry.scenario)} | ${codeSpan(describeCall(entry.call))} | ${escapeMarkdown(expected)} | ${escapeMarkdown(decision.decision)} | ${escapeMarkdown(decision.reason)} | ${codeSpan(`${entry.file}:${entry.line}:${entry.column}`)} |`);
    }
  }
  return lines.join('\n');
}

/**
 * JUnit XML: one `<testsuite>` per scenario file, one `<testcase>` per case
 * (classname: the scenario id; name: the case's name or call and its
 * expected decision), `<failure>` for a failed case. Deterministic: `time`
 * is always 0.
 */
export function testJunit(run: ScenarioRun): string {
  const suites: string[] = [];
  for (const file of run.files) {
    const results = run.results.filter((result) => result.case.file === file.file);
    const failed = results.filter((result) => !result.passed).length;
    const cases = results.map((result) => {
      const { case: entry, decision } = result;
      const open = `    <testcase classname="${xmlAttribute(entry.scenario)}" name="${xmlAttribute(`${caseLabel(result)} → ${entry.expect}`)}" time="0"`;
      if (result.passed) return `${open}/>`;
      const details = [
        `${entry.file}:${entry.line}:${entry.column}: ${describeFailure(result)}`,
        `call: ${describeCall(entry.call)}`,
        `decided for: ${result.at}`,
      ].join('\n');
      const message = result.mismatch === 'reason'
        ? `expected a reason containing "${entry.reason}", got: ${decision.reason}`
        : `expected ${entry.expect}, got ${decision.decision}`;
      return `${open}>\n      <failure type="${xmlAttribute(result.mismatch ?? 'decision')}" message="${xmlAttribute(message)}">${xmlText(details)}</failure>\n    </testcase>`;
    });
    suites.push(`  <testsuite name="${xmlAttribute(file.file)}" tests="${results.length}" failures="${failed}" errors="0" skipped="0" time="0">`, ...cases, '  </testsuite>');
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mandate test" tests="${run.results.length}" failures="${run.failed}" errors="0" skipped="0" time="0">`,
    ...suites,
    '</testsuites>',
  ].join('\n');
}

