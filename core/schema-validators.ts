import Ajv2020 from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import agentSchema from '../schema/agent.schema.json';
import applicabilitySchema from '../schema/applicability.schema.json';
import approvalRuleSchema from '../schema/approvalrule.schema.json';
import commonSchema from '../schema/common.schema.json';
import configSchema from '../schema/config.schema.json';
import controlCatalogSchema from '../schema/controlcatalog.schema.json';
import dataClassSchema from '../schema/dataclass.schema.json';
import guardrailSchema from '../schema/guardrail.schema.json';
import personSchema from '../schema/person.schema.json';
import scenarioSchema from '../schema/scenario.schema.json';
import teamSchema from '../schema/team.schema.json';
import toolSchema from '../schema/tool.schema.json';

/**
 * The JSON Schema of every document kind, as shipped in `schema/`. The build
 * (scripts/build.mjs) replaces this module's `compileValidators` with code ajv
 * generated ahead of time from the same schemas and options, so the CLI does
 * not pay for compiling them at every start.
 */
export const SCHEMAS = {
  Agent: agentSchema,
  Tool: toolSchema,
  DataClass: dataClassSchema,
  Person: personSchema,
  Team: teamSchema,
  Guardrail: guardrailSchema,
  ApprovalRule: approvalRuleSchema,
  ControlCatalog: controlCatalogSchema,
  Applicability: applicabilitySchema,
  Config: configSchema,
  Scenario: scenarioSchema,
} as const;

/** Every kind a mandate/v1 document may have, including mandate.yaml and scenarios. */
export type DocumentKind = keyof typeof SCHEMAS;

/** An ajv instance holding every schema with the options mandate validates with. */
export function createAjv(options: { source?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    verbose: true,
    allowUnionTypes: true,
    code: { source: options.source === true, esm: true },
  });
  addFormats(ajv, ['date', 'email', 'uri']);
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
  ajv.addSchema(commonSchema);
  for (const schema of Object.values(SCHEMAS)) ajv.addSchema(schema);
  return ajv;
}

/** One compiled validator per kind. */
export function compileValidators(): Map<DocumentKind, ValidateFunction> {
  const ajv = createAjv();
  return new Map(
    (Object.keys(SCHEMAS) as DocumentKind[]).map((kind) => [kind, ajv.getSchema(SCHEMAS[kind].$id)! as ValidateFunction]),
  );
}
