import { ANNEX_A_CONTROLS } from './annex-a';
import { dayOf, formatDay } from './dates';
import { compareStrings } from './finding';

/** One file `mandate init` writes, repository-relative with `/` separators. */
export interface ScaffoldFile {
  path: string;
  content: string;
}

/** What the scaffold needs from outside: the date and the files the package ships. */
export interface ScaffoldInput {
  /** "Today" as `YYYY-MM-DD`: review and vetting dates, so the new repo validates clean. */
  today: string;
  /** The mandate version the sample workflow pins. */
  version: string;
  /** The package's `controls/iso42001-annex-a.yaml`, copied as the repo's ControlCatalog. */
  annexCatalog: string;
  /** The package's `schema/*.json` files, copied to `.mandate/schema/`. */
  schemas: ReadonlyArray<{ name: string; content: string }>;
}

/** Where `mandate init` puts the JSON Schemas that the YAML modelines point at. */
export const SCHEMA_DIR = '.mandate/schema';

const MODELINE = /^# yaml-language-server: \$schema=\S*[^\S\n]*\n/;

/**
 * The files of a new governance repository (`mandate init`): config, one
 * example agent with its tool, people, teams and data classes, the Annex A
 * catalog, a Statement of Applicability skeleton, the JSON Schemas and a
 * GitHub workflow. Everything validates with no finding on `today`.
 * Sorted by path.
 */
export function scaffoldFiles(input: ScaffoldInput): ScaffoldFile[] {
  const { today } = input;
  const inAYear = formatDay(dayOf(today) + 365);
  const yaml = (path: string, schema: string, body: string): ScaffoldFile => ({
    path,
    content: `${modeline(path, schema)}\n${body.replace(/^\n/, '')}`,
  });
  const files: ScaffoldFile[] = [
    yaml('mandate.yaml', 'config', CONFIG),
    yaml('policies/agents/example-agent.yaml', 'agent', exampleAgent(today, inAYear)),
    yaml('policies/tools/example-tool.yaml', 'tool', exampleTool(today)),
    yaml('policies/people.yaml', 'person', PEOPLE),
    yaml('policies/teams.yaml', 'team', TEAMS),
    yaml('policies/data-classes.yaml', 'dataclass', DATA_CLASSES),
    yaml('controls/iso42001-annex-a.yaml', 'controlcatalog', input.annexCatalog.replace(MODELINE, '')),
    yaml('controls/statement-of-applicability.yaml', 'applicability', statementOfApplicability()),
    { path: '.github/workflows/mandate.yml', content: workflow(input.version) },
    ...input.schemas.map((schema) => ({ path: `${SCHEMA_DIR}/${schema.name}`, content: schema.content })),
  ];
  return files.sort((a, b) => compareStrings(a.path, b.path));
}

/** `# yaml-language-server: $schema=<relative path>` for a file at `path`. */
function modeline(path: string, kind: string): string {
  const depth = path.split('/').length - 1;
  return `# yaml-language-server: $schema=${'../'.repeat(depth)}${SCHEMA_DIR}/${kind}.schema.json`;
}

const CONFIG = `
#
# Repository-wide settings (mandate.yaml). Every field is optional.
apiVersion: mandate/v1
kind: Config
roots: [policies, controls]       # every *.yaml under these is a governance file
defaultBranch: main
reviewIntervalDays: 180           # review-overdue when lastReviewed is older
admins: [team:security]           # approve changes to tools, people, guardrails...
defaultApproval: { count: 1, from: [owner, team] }
# rules:                          # change a rule's severity: error | warning | off
#   wildcard-write: error
`;

function exampleAgent(today: string, expires: string): string {
  return `
#
# An example agent. Register every AI agent you run like this, one file each,
# then delete this one. mandate computes its risk tier from what it can do:
# medium here (it writes internal notes and reads customer PII); a declared
# riskTier below the computed one is an error.
apiVersion: mandate/v1
kind: Agent
id: example-agent
name: Example support triage assistant
purpose: >-
  Reads inbound support tickets, tags them and drafts an internal note for a
  human to review; it never writes to the customer itself.
owner: ada                    # the one accountable Person
team: support
status: active                # proposed | active | suspended | retired
riskTier: medium              # low | medium | high | critical
lastReviewed: ${today}        # review-overdue after reviewIntervalDays
model: { provider: anthropic, name: claude-sonnet }
exposure:
  untrustedInput: true        # ticket text is written by customers
permissions:
  - tool: example-tool
    actions: [tickets.read, tickets.comment]
    resources: ["queue/support/**"]
    approval: none            # required = a human approves every call
    rateLimit: { max: 600, per: hour }
    expires: ${expires}
    justification: Reads and annotates tickets in the support queue only.
deny:
  - tool: example-tool
    actions: [tickets.reply, tickets.delete]
    reason: Replies go out through a human; nothing is ever deleted by an agent.
`;
}

function exampleTool(today: string): string {
  return `
#
# An example tool: an API, MCP server or internal service agents call. Every
# action is classified by effect (read | write | delete | execute | egress)
# and the data classes it touches.
apiVersion: mandate/v1
kind: Tool
id: example-tool
name: Example helpdesk
description: A third-party helpdesk. Resources are \`queue/<queue>/<ticket-id>\`.
type: api                     # api | mcp-server | internal
vendor: Example Helpdesk Inc.
thirdParty: true
vetting: { status: approved, reviewedAt: ${today}, reviewer: ben, notes: Example vetting record; replace with your review. }
untrustedContent: true        # tickets carry text written by outsiders
actions:
  tickets.read:    { effect: read,   data: [customer-pii] }
  tickets.comment: { effect: write,  data: [customer-pii], description: Internal note the customer does not see. }
  tickets.reply:   { effect: egress, data: [customer-pii], description: Email to the customer. }
  tickets.delete:  { effect: delete }
`;
}

const PEOPLE = `
#
# Everyone who owns an agent, sits on a team, vets a tool or approves an
# exception. \`github\` is the login matched against pull-request reviews: a
# person without one cannot approve anything.
apiVersion: mandate/v1
kind: Person
id: ada
name: Ada Example
github: ada-example
role: Head of Customer Support
---
apiVersion: mandate/v1
kind: Person
id: ben
name: Ben Example
github: ben-example
role: Security Engineer
`;

const TEAMS = `
#
# Teams. In approval rules \`team\` is the agent's own team and \`team:<id>\`
# that team's members.
apiVersion: mandate/v1
kind: Team
id: support
name: Customer Support
members: [ada]
---
apiVersion: mandate/v1
kind: Team
id: security
name: Security
description: Vets tools and approves changes to shared governance documents.
members: [ben]
`;

const DATA_CLASSES = `
#
# Data classes that tool actions touch. sensitivity drives the computed risk
# tier: public | internal | confidential | restricted.
apiVersion: mandate/v1
kind: DataClass
id: customer-pii
name: Customer personal data
description: Names, email addresses and message contents of customers.
sensitivity: confidential
---
apiVersion: mandate/v1
kind: DataClass
id: internal-docs
name: Internal documentation
sensitivity: internal
`;

function statementOfApplicability(): string {
  const decisions = ANNEX_A_CONTROLS.map(
    (control) => `  - control: ${control.id.padEnd(9)}# ${control.title}
    applicable: true
    status: planned
    justification: "TODO: decide whether this control applies, and how it is or will be implemented."
`,
  ).join('');
  return `
#
# Statement of Applicability: one decision per ISO/IEC 42001 Annex A control.
# Every control starts as planned; for each, set applicable, status
# (implemented | partial | planned | not-applicable), a justification and
# evidence (repository paths or references to records kept elsewhere).
apiVersion: mandate/v1
kind: Applicability
id: soa
title: Statement of Applicability (draft)
decisions:
${decisions}`;
}

function workflow(version: string): string {
  return `# Validates the governance files on every pull request and on main, and
# shows the findings in GitHub code scanning (Security tab and pull requests).
name: mandate

on:
  pull_request:
  push:
    branches: [main]

permissions:
  contents: read
  security-events: write

jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: 22
      - name: Validate
        run: npx --yes mandate@${version} validate --format sarif > mandate.sarif
      - name: Upload findings to code scanning
        if: success() || failure()
        uses: github/codeql-action/upload-sarif@v4
        with:
          sarif_file: mandate.sarif
          category: mandate
`;
}
