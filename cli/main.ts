import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import packageJson from '../package.json';
import { runCheck } from './commands/check';
import { runExportCedar } from './commands/export-cedar';
import { runDiff } from './commands/diff';
import { runInit } from './commands/init';
import { runRules } from './commands/rules';
import { runSimulate } from './commands/simulate';
import { runTest } from './commands/test';
import { runValidate } from './commands/validate';
import { failWith, UsageError } from './output';

/** Runs one mandate command and resolves to its exit code (CLI.md). */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const run = (command: Promise<number>): Promise<void> => command.then((code) => { exitCode = code; });
  const parser = yargs(argv)
    .scriptName('mandate')
    .usage('$0 <command> [options]\n\nGovern what AI agents may do, as YAML in git.')
    .option('repo', { type: 'string', default: '.', describe: 'governance repository directory', requiresArg: true })
    .option('format', { type: 'string', default: 'text', describe: 'text | json | markdown (sarif, junit for validate; junit for test)', requiresArg: true })
    .command('validate', 'check schema, references, every built-in rule and the guardrails', (command) =>
      command.option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' }),
      (args) => run(runValidate(args)))
    .command('diff', 'what a change does to what agents can do, and who must approve it', (command) =>
      command
        .option('base', { type: 'string', describe: 'base revision (default: the default branch)', requiresArg: true })
        .option('head', { type: 'string', describe: 'head revision (default: the working tree)', requiresArg: true })
        .option('author', { type: 'string', describe: 'GitHub login of the change author (never counts as an approver)', requiresArg: true }),
      (args) => run(runDiff(args)))
    .command('rules', 'list the built-in rules with their controls and OWASP risks', (command) => command, (args) => run(runRules(args)))
    .command('init [dir]', 'scaffold a new governance repository', (command) =>
      command.positional('dir', { type: 'string', default: '.', describe: 'directory to create it in' }),
      (args) => run(runInit({ ...args, dir: args.dir ?? '.' })))
    .command('check <agent> <call> [resource]', 'decide one call: allow, approval or deny, and why', (command) =>
      command
        .positional('agent', { type: 'string', demandOption: true, describe: 'agent id or alias' })
        .positional('call', { type: 'string', demandOption: true, describe: 'TOOL:ACTION, e.g. zendesk:tickets.read' })
        .positional('resource', { type: 'string', describe: 'the resource it acts on, e.g. queue/support/123' })
        .option('at', { type: 'string', requiresArg: true, describe: 'decide for this UTC day (YYYY-MM-DD); default today' }),
      (args) => run(runCheck({ ...args, agent: String(args.agent), call: String(args.call) })))
    .command('test [path]', 'run scenario files: expected decisions for calls (junit too)', (command) =>
      command.positional('path', { type: 'string', describe: 'a scenario file or directory (default test/scenarios/)' }),
      (args) => run(runTest(args)))
    .command('simulate', 'replay recorded calls (JSONL or OTLP/JSON) against base and head, or compare effective access', (command) =>
      command
        .option('calls', { type: 'string', requiresArg: true, describe: 'recorded calls: JSONL or OTLP/JSON, one object per line' })
        .option('base', { type: 'string', requiresArg: true, describe: 'base revision (default: the default branch)' })
        .option('head', { type: 'string', requiresArg: true, describe: 'head revision (default: the working tree)' })
        .option('limit', { type: 'string', requiresArg: true, describe: 'list at most N changed calls (default 1000)' })
        .option('strict', { type: 'boolean', default: false, describe: 'exit 2 on a malformed line' })
        .option('suggest', { type: 'boolean', default: false, describe: 'narrow the head to what the calls used (a patch)' })
        .option('out', { type: 'string', requiresArg: true, describe: 'with --suggest: write the patch to FILE' }),
      (args) => run(runSimulate(args)))
    .command('export', 'export the repository to another policy language', (command) =>
      command
        .command('cedar', 'a Cedar schema, policy set and entities equivalent to mandate\'s decisions', (cedar) =>
          cedar.option('out', { type: 'string', requiresArg: true, describe: 'write mandate.cedarschema, policies.cedar and entities.json into DIR' }),
          (args) => run(runExportCedar(args)))
        .demandCommand(1, 'name what to export: cedar'))
    .demandCommand(1, 'name a command; see mandate --help')
    .recommendCommands()
    .strict()
    .version(packageJson.version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  await parser.parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    failWith(error instanceof Error && !(error instanceof UsageError) && error.name === 'YError' ? new UsageError(error.message) : error);
  },
);
