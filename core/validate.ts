import { AgentMemo } from './agent-memo';
import type { Capability } from './capability';
import { computeCapabilities } from './capability';
import type { ResolvedConfig } from './config';
import { DEFAULT_CONFIG, resolveConfig } from './config';
import { dayOfInstant } from './dates';
import type { AgentDoc, ConfigDoc } from './documents';
import type { Finding } from './finding';
import { compareFindings } from './finding';
import { fileSystemTree } from './fs-tree';
import type { Located, Model } from './model';
import { buildModel } from './model';
import type { RuleId } from './rule-catalog';
import { isRuleId, newFinding, ruleDefinition } from './rule-catalog';
import { agentHygieneFindings } from './rules/agent-hygiene';
import { applyExceptions } from './rules/exceptions';
import { guardrailFindings } from './rules/guardrails';
import { riskFindings } from './rules/risk';
import type { DocumentPlace } from './schema-check';
import { checkDocumentShape } from './schema-check';
import type { SourceTree } from './source-tree';
import type { ParseLimits, ParsedDocument } from './yaml-safe';
import { DEFAULT_PARSE_LIMITS, parseGovernanceFile, subjectOf } from './yaml-safe';

/** The path of the repository configuration file. */
export const CONFIG_FILE = 'mandate.yaml';

/** A governance file read and checked on its own: its accepted documents and its findings. */
export interface LoadedFile {
  file: string;
  accepted: ParsedDocument[];
  findings: Finding[];
}

/** Options shared by every command that loads a repository. */
export interface LoadOptions {
  /** "Today" (FORMAT.md, Now); the CLI passes MANDATE_NOW or the clock. */
  now?: Date;
  limits?: ParseLimits;
  /** Reuses files already loaded, keyed by path and blob id (diff loads two sides). */
  cache?: Map<string, LoadedFile>;
  /** Reuses per-agent results between loads of one repository (see agent-memo.ts). */
  memo?: AgentMemo;
  /** Parses and shape-checks the governance files (the CLI passes a worker pool); default: `loadFile` in this thread. */
  loader?: FileLoader;
  /**
   * false: stop at the model (load, shape and reference findings only; no
   * capabilities, no rule findings), for commands that only decide calls.
   * Default true.
   */
  rules?: boolean;
}

/** Parses and shape-checks one governance file under the roots, maybe elsewhere; never rejects on content. */
export type FileLoader = (file: string, bytes: Uint8Array, limits: ParseLimits) => Promise<LoadedFile>;

const loadInThisThread: FileLoader = (file, bytes, limits) => Promise.resolve(loadFile(file, bytes, 'roots', limits));

/** One side of the repository, loaded, modelled and checked. */
export interface Snapshot {
  config: ResolvedConfig;
  files: string[];
  model: Model;
  /** Effective capability per agent (empty when loaded with `rules: false`). */
  capabilities: Map<string, Capability>;
  /** Every finding, sorted, with configured severities and waivers applied. */
  findings: Finding[];
}

/** Counts in the shape of CLI.md's `summary`. */
export interface ValidationSummary {
  errors: number;
  warnings: number;
  waived: number;
  files: number;
}

/** What `mandate validate` reports. */
export interface ValidationResult {
  ok: boolean;
  summary: ValidationSummary;
  findings: Finding[];
  snapshot: Snapshot;
}

/** Loads a repository through a SourceTree and runs every rule on it. */
export async function loadSnapshot(tree: SourceTree, options: LoadOptions = {}): Promise<Snapshot> {
  const limits = options.limits ?? DEFAULT_PARSE_LIMITS;
  const raw: Finding[] = [];
  const configLoad = await loadConfig(tree, limits, options.cache);
  raw.push(...configLoad.findings);
  const config = configLoad.config;
  const { entries, missingRoots } = await tree.listGovernanceFiles(config.roots);
  if (configLoad.doc?.roots && configLoad.source) {
    for (const missing of missingRoots) {
      const index = configLoad.doc.roots.indexOf(missing);
      raw.push(newFinding('unreadable-file', `root directory '${missing}' does not exist`, configLoad.source.position(['roots', index]), 'config'));
    }
  }
  // Files are handed to the loader as they are read and collected in path order.
  const loader = options.loader ?? loadInThisThread;
  const files: (LoadedFile | Promise<LoadedFile>)[] = [];
  const problem = (finding: Finding): LoadedFile => ({ file: finding.file, accepted: [], findings: [finding] });
  for (const entry of entries) {
    const at = { file: entry.path, line: 1, column: 1 };
    if (entry.type !== 'file') {
      const reason = entry.type === 'symlink' ? 'is a symlink; symlinks are never followed' : 'is not a regular file';
      files.push(problem(newFinding('unreadable-file', `${entry.path} ${reason}`, at, 'file')));
      continue;
    }
    const cached = entry.id === undefined ? undefined : options.cache?.get(`${entry.path}\u0000${entry.id}`);
    if (cached) {
      files.push(cached);
      continue;
    }
    const content = await tree.readFile(entry.path, config.maxFileBytes);
    if (content.status === 'too-large') {
      files.push(problem(newFinding('yaml-limit', `file is ${content.size} bytes, over the ${config.maxFileBytes}-byte limit (maxFileBytes)`, at, 'file')));
      continue;
    }
    if (content.status !== 'ok') {
      const reason = content.status === 'missing' ? 'disappeared while reading' : content.reason;
      files.push(problem(newFinding('unreadable-file', `cannot read ${entry.path}: ${reason}`, at, 'file')));
      continue;
    }
    const key = content.id === undefined ? undefined : `${entry.path}\u0000${content.id}`;
    const known = key === undefined ? undefined : options.cache?.get(key);
    if (known) {
      files.push(known);
      continue;
    }
    files.push(loader(entry.path, content.bytes, limits).then((loaded) => {
      if (key !== undefined) options.cache?.set(key, loaded);
      return loaded;
    }));
  }
  const accepted: ParsedDocument[] = [];
  for (const loaded of await Promise.all(files)) {
    raw.push(...loaded.findings);
    accepted.push(...loaded.accepted);
  }
  const today = dayOfInstant(options.now ?? new Date());
  const memo = options.memo ?? new AgentMemo();
  memo.enter(agentContext(configLoad.source, today, accepted));
  const { model, findings: modelFindings } = buildModel(accepted, config, today, memo);
  raw.push(...modelFindings);
  if (configLoad.doc && configLoad.source) raw.push(...checkConfigReferences(model, configLoad.doc, configLoad.source));
  const capabilities = options.rules === false ? new Map<string, Capability>() : computeCapabilities(model, memo);
  if (options.rules !== false) {
    for (const located of model.agents.values()) raw.push(...agentFindings(model, located, capabilities.get(located.doc.id)!, memo));
  }
  const findings = finalizeFindings(model, raw);
  return { config, files: entries.map((entry) => entry.path), model, capabilities, findings };
}

/** What every per-agent result depends on besides the agent's own document: configuration, day, non-agent documents. */
function agentContext(config: ParsedDocument | undefined, today: number, documents: readonly ParsedDocument[]): unknown[] {
  const context: unknown[] = [config?.value, today];
  for (const document of documents) if ((document.value as { kind?: unknown }).kind !== 'Agent') context.push(document.value);
  return context;
}

/** The hygiene, guardrail and risk findings of one agent, remembered in `memo` while their inputs stay the same. */
function agentFindings(model: Model, located: Located<AgentDoc>, capability: Capability, memo: AgentMemo): Finding[] {
  const results = memo.of(located.doc);
  results.hygiene ??= agentHygieneFindings(model, located);
  results.guardrails ??= guardrailFindings(model, located);
  if (results.risk?.capability !== capability) results.risk = { capability, findings: riskFindings(model, located, capability) };
  return [...results.hygiene, ...results.guardrails, ...results.risk.findings];
}

/** Parses and shape-checks one file; documents with a shape problem are left out. */
export function loadFile(file: string, bytes: Uint8Array, place: DocumentPlace, limits: ParseLimits = DEFAULT_PARSE_LIMITS): LoadedFile {
  const parsed = parseGovernanceFile(file, bytes, limits);
  const findings = [...parsed.findings];
  const accepted: ParsedDocument[] = [];
  for (const document of parsed.documents) {
    if (document.rejected) continue;
    const shape = checkDocumentShape(document, place, subjectOf(document.value));
    findings.push(...shape);
    if (shape.length === 0) accepted.push(document);
  }
  return { file, accepted, findings };
}

/** Validates the repository at `root` on disk (`mandate validate`). */
export async function validateRepository(root: string, options: LoadOptions & { strict?: boolean } = {}): Promise<ValidationResult> {
  const snapshot = await loadSnapshot(fileSystemTree(root), options);
  const findings = options.strict
    ? snapshot.findings.map((finding) => (finding.severity === 'warning' ? { ...finding, severity: 'error' as const } : finding))
    : snapshot.findings;
  const summary = summarize(findings, snapshot.files.length);
  return { ok: summary.errors === 0, summary, findings, snapshot };
}

/** Counts errors, warnings and waived findings. */
export function summarize(findings: readonly Finding[], files: number): ValidationSummary {
  const summary: ValidationSummary = { errors: 0, warnings: 0, waived: 0, files };
  for (const finding of findings) {
    if (finding.waived) summary.waived += 1;
    else if (finding.severity === 'error') summary.errors += 1;
    else summary.warnings += 1;
  }
  return summary;
}

interface ConfigLoad {
  config: ResolvedConfig;
  doc?: ConfigDoc;
  source?: ParsedDocument;
  findings: Finding[];
}

async function loadConfig(tree: SourceTree, limits: ParseLimits, cache: Map<string, LoadedFile> | undefined): Promise<ConfigLoad> {
  const content = await tree.readFile(CONFIG_FILE, DEFAULT_CONFIG.maxFileBytes);
  const at = { file: CONFIG_FILE, line: 1, column: 1 };
  if (content.status === 'missing') return { config: { ...DEFAULT_CONFIG }, findings: [] };
  if (content.status === 'too-large') {
    return { config: { ...DEFAULT_CONFIG }, findings: [newFinding('yaml-limit', `${CONFIG_FILE} is ${content.size} bytes, over the 1 MiB limit`, at, 'config')] };
  }
  if (content.status === 'unreadable') {
    return { config: { ...DEFAULT_CONFIG }, findings: [newFinding('unreadable-file', `cannot read ${CONFIG_FILE}: ${content.reason}`, at, 'config')] };
  }
  const key = content.id === undefined ? undefined : `\u0000config\u0000${content.id}`;
  let loaded = key === undefined ? undefined : cache?.get(key);
  if (!loaded) {
    loaded = loadFile(CONFIG_FILE, content.bytes, 'config', limits);
    if (key !== undefined) cache?.set(key, loaded);
  }
  const findings = loaded.findings.map((finding) => ({ ...finding, subject: 'config' }));
  if (loaded.accepted.length > 1) {
    findings.push(newFinding('schema', `${CONFIG_FILE} must hold one document`, loaded.accepted[1]!.position([]), 'config'));
  }
  const source = loaded.accepted[0];
  if (!source || findings.length > 0) return { config: { ...DEFAULT_CONFIG }, findings };
  const doc = source.value as ConfigDoc;
  const severities = new Map<RuleId, 'error' | 'warning' | 'off'>();
  for (const [rule, severity] of Object.entries(doc.rules ?? {})) {
    const position = source.position(['rules', rule], 'key');
    if (!isRuleId(rule)) {
      findings.push(newFinding('unknown-reference', `rule \`${rule}\` is not a built-in rule`, position, 'config'));
    } else if (ruleDefinition(rule).fixed) {
      findings.push(newFinding('schema', `rule \`${rule}\` keeps the model sound and is always an error`, position, 'config'));
    } else if (rule === 'guardrail') {
      findings.push(newFinding('schema', 'the severity of guardrail findings is set in each Guardrail, not here', position, 'config'));
    } else {
      severities.set(rule, severity);
    }
  }
  return { config: resolveConfig(doc, severities), doc, source, findings };
}

function checkConfigReferences(model: Model, doc: ConfigDoc, source: ParsedDocument): Finding[] {
  const findings: Finding[] = [];
  const check = (approver: string, path: (string | number)[]): void => {
    const [scope, id] = approver.split(':');
    if (id === undefined) return;
    const known = scope === 'team' ? model.teams.has(id) : model.people.has(id);
    if (!known) {
      findings.push(newFinding('unknown-reference', `${scope} '${id}' is not a known ${scope === 'team' ? 'Team' : 'Person'}`, source.position(path), 'config'));
    }
  };
  doc.admins?.forEach((approver, index) => check(approver, ['admins', index]));
  doc.defaultApproval?.from.forEach((approver, index) => check(approver, ['defaultApproval', 'from', index]));
  return findings;
}

/** Copies findings, applies configured severities and exceptions, and sorts them. */
function finalizeFindings(model: Model, raw: readonly Finding[]): Finding[] {
  const findings: Finding[] = [];
  for (const original of raw) {
    const override = model.config.ruleSeverities.get(original.rule);
    if (override === 'off') continue;
    findings.push(override ? { ...original, severity: override } : { ...original });
  }
  applyExceptions(model, findings);
  return findings.sort(compareFindings);
}
