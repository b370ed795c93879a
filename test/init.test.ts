import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ANNEX_A_CONTROLS } from '../core/annex-a';
import { ensureBuilt } from './helpers/repo';

const PROJECT = join(import.meta.dirname, '..');
const CLI = join(PROJECT, 'dist', 'cli.js');
const TODAY = '2031-03-01';

interface Run { stdout: string; stderr: string; status: number | null }

function mandate(args: string[], now = TODAY): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, MANDATE_NOW: now, NO_COLOR: '1' };
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, cwd: PROJECT });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}

/** Every file under `root` (dot-directories included) with its content and mtime. */
function tree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(root, path).split('\\').join('/'), `${statSync(path).mtimeMs}\n${readFileSync(path, 'utf8')}`);
    }
  };
  walk(root);
  return files;
}

let workspace: string;
let repo: string;
let init: Run;

beforeAll(() => {
  ensureBuilt();
  workspace = mkdtempSync(join(tmpdir(), 'mandate-init-'));
  repo = join(workspace, 'governance');
  init = mandate(['init', repo]);
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

describe('mandate init', () => {
  it('creates the directory and reports what it wrote', () => {
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const count = tree(repo).size;
    expect(init.stdout).toBe(`created ${count} files in ${repo}; next: mandate validate --repo ${repo}\n`);
    for (const path of [
      'mandate.yaml',
      'policies/agents/example-agent.yaml',
      'policies/tools/example-tool.yaml',
      'policies/people.yaml',
      'policies/teams.yaml',
      'policies/data-classes.yaml',
      'controls/iso42001-annex-a.yaml',
      'controls/statement-of-applicability.yaml',
      '.mandate/schema/agent.schema.json',
      '.mandate/schema/common.schema.json',
      '.github/workflows/mandate.yml',
    ]) {
      expect(existsSync(join(repo, path)), path).toBe(true);
    }
  });

  it('scaffolds a repository that validates with no finding', () => {
    const run = mandate(['validate', '--repo', repo, '--format', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ apiVersion: 'mandate/v1', ok: true, summary: { errors: 0, warnings: 0, waived: 0, files: 7 } });
    expect(result.findings).toEqual([]);
  });

  it('dates the review today, so it goes overdue like any other', () => {
    const agent = parse(readFileSync(join(repo, 'policies/agents/example-agent.yaml'), 'utf8'));
    expect(agent.lastReviewed).toBe(TODAY);
    const later = JSON.parse(mandate(['validate', '--repo', repo, '--format', 'json'], '2031-12-01').stdout);
    expect(later.findings.map((finding: { rule: string }) => finding.rule)).toContain('review-overdue');
  });

  it('decides every Annex A control in the Statement of Applicability, and copies the catalog', () => {
    const soa = parse(readFileSync(join(repo, 'controls/statement-of-applicability.yaml'), 'utf8'));
    expect(soa.decisions.map((decision: { control: string }) => decision.control)).toEqual(ANNEX_A_CONTROLS.map((control) => control.id));
    expect(soa.decisions.every((decision: { status: string }) => decision.status === 'planned')).toBe(true);
    const shipped = readFileSync(join(PROJECT, 'controls/iso42001-annex-a.yaml'), 'utf8');
    const copied = readFileSync(join(repo, 'controls/iso42001-annex-a.yaml'), 'utf8');
    expect(copied.split('\n').slice(1)).toEqual(shipped.split('\n').slice(1));
  });

  it('points every YAML file at a copied schema that its documents satisfy', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const schemaDir = join(repo, '.mandate/schema');
    const shipped = readdirSync(join(PROJECT, 'schema')).sort();
    expect(readdirSync(schemaDir).sort()).toEqual(shipped);
    for (const name of shipped) ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, name), 'utf8')));
    const yamlFiles = [...tree(repo).keys()].filter((path) => path.endsWith('.yaml'));
    expect(yamlFiles.length).toBe(8);
    for (const path of yamlFiles) {
      const text = readFileSync(join(repo, path), 'utf8');
      const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
      expect(modeline, path).not.toBeNull();
      const schemaPath = join(dirname(join(repo, path)), modeline![1]!);
      expect(existsSync(schemaPath), `${path} -> ${modeline![1]}`).toBe(true);
      const validate = ajv.getSchema(relative(schemaDir, schemaPath))!;
      for (const document of parseAllDocuments(text)) {
        expect(validate(document.toJS()), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    }
  });

  it('writes a code-scanning workflow with least privilege', () => {
    const workflow = parse(readFileSync(join(repo, '.github/workflows/mandate.yml'), 'utf8'));
    expect(workflow.permissions).toEqual({ contents: 'read', 'security-events': 'write' });
    const steps: { uses?: string; run?: string; with?: Record<string, string> }[] = workflow.jobs.validate.steps;
    expect(steps.some((step) => /mandate@\S+ validate --format sarif > mandate\.sarif$/.test(step.run ?? ''))).toBe(true);
    const upload = steps.find((step) => step.uses?.startsWith('github/codeql-action/upload-sarif@'))!;
    expect(upload.uses).toMatch(/@v\d+$/);
    expect(upload.with?.sarif_file).toBe('mandate.sarif');
    for (const step of steps) if (step.uses) expect(step.uses).toMatch(/@v\d+$/);
  });

  it('refuses to run again over its own files, changing nothing', () => {
    const before = tree(repo);
    const again = mandate(['init', repo]);
    expect(again.status).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain('mandate.yaml');
    expect(again.stderr).toContain('policies/agents/example-agent.yaml');
    expect(tree(repo)).toEqual(before);
  });

  it('writes nothing when a single file would be overwritten', () => {
    const partial = join(workspace, 'partial');
    mkdirSync(join(partial, 'policies'), { recursive: true });
    writeFileSync(join(partial, 'policies/people.yaml'), 'kept: true\n');
    const run = mandate(['init', partial, '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^mandate: .*policies\/people\.yaml\n$/);
    expect(run.stderr).not.toContain('mandate.yaml');
    expect([...tree(partial).keys()]).toEqual(['policies/people.yaml']);
    expect(readFileSync(join(partial, 'policies/people.yaml'), 'utf8')).toBe('kept: true\n');
  });

  it('prints the created files as JSON with --format json', () => {
    const target = join(workspace, 'json');
    const run = mandate(['init', target, '--format', 'json']);
    expect(run.status).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document.apiVersion).toBe('mandate/v1');
    expect(document.created).toEqual([...tree(target).keys()].sort());
    expect(document.created).toContain('mandate.yaml');
  });
});
