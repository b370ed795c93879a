import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ANNEX_A_CONTROLS } from '../core/annex-a';

const CONTROLS = join(import.meta.dirname, '..', 'controls');

interface Catalog { objectives: { controls: { id: string; title: string; summary: string }[] }[] }
interface Soa { decisions: { control: string; applicable: boolean; status: string }[] }

describe('the shipped Annex A data', () => {
  const catalog = parse(readFileSync(join(CONTROLS, 'iso42001-annex-a.yaml'), 'utf8')) as Catalog;
  const controls = catalog.objectives.flatMap((objective) => objective.controls);

  it('lists the same 38 controls as the built-in list, in order', () => {
    expect(controls.map(({ id, title }) => ({ id, title }))).toEqual(ANNEX_A_CONTROLS);
    expect(controls).toHaveLength(38);
  });
  it('has a paraphrased summary for every control', () => {
    for (const control of controls) expect(control.summary.length).toBeGreaterThan(40);
  });
  it('decides every control in the Statement of Applicability, once', () => {
    const soa = parse(readFileSync(join(CONTROLS, 'statement-of-applicability.yaml'), 'utf8')) as Soa;
    const decided = soa.decisions.map((decision) => decision.control);
    expect([...decided].sort()).toEqual(ANNEX_A_CONTROLS.map((control) => control.id).sort());
    for (const decision of soa.decisions) {
      expect(decision.applicable).toBe(decision.status !== 'not-applicable');
    }
  });
});

describe('docs/rules.md', () => {
  it('is generated from the current rule catalog', async () => {
    const { runCli, ensureBuilt } = await import('./helpers/repo');
    ensureBuilt();
    const table = runCli(['rules', '--format', 'markdown']).stdout;
    expect(readFileSync(join(import.meta.dirname, '..', 'docs', 'rules.md'), 'utf8').endsWith(table)).toBe(true);
  });
});
