import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import packageJson from '../package.json';
import { runInit } from './commands/init';
import { runRules } from './commands/rules';
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
    .option('format', { type: 'string', default: 'text', describe: 'text | json | markdown (sarif, junit for validate)', requiresArg: true })
    .command('validate', 'check schema, references, every built-in rule and the guardrails', (command) =>
      command.option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' }),
      (args) => run(runValidate(args)))
    .command('rules', 'list the built-in rules with their controls and OWASP risks', (command) => command, (args) => run(runRules(args)))
    .command('init [dir]', 'scaffold a new governance repository', (command) =>
      command.positional('dir', { type: 'string', default: '.', describe: 'directory to create it in' }),
      (args) => run(runInit({ ...args, dir: args.dir ?? '.' })))
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
