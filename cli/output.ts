import pc from 'picocolors';
import { redactSecrets } from '../core/secrets';

/** Colour functions for one stream: real colours on a TTY without NO_COLOR, identity otherwise. */
export type Palette = ReturnType<typeof pc.createColors>;

/** A palette for stdout or stderr, following CLI.md (coloured on a TTY, plain when piped or NO_COLOR). */
export function paletteFor(stream: NodeJS.WriteStream): Palette {
  const enabled = stream.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return pc.createColors(enabled);
}

/** Writes a command's document to stdout, with every credential-shaped run redacted. */
export function writeOutput(text: string): void {
  process.stdout.write(redactSecrets(text.endsWith('\n') ? text : `${text}\n`));
}

/** A usage or environment problem: one line on stderr, exit code 2 (CLI.md). */
export class UsageError extends Error {}

/** Reports a UsageError (or anything unexpected) as one line and exit code 2. */
export function failWith(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const prefix = error instanceof UsageError ? 'mandate: ' : 'mandate: internal error: ';
  process.stderr.write(`${prefix}${redactSecrets(message.split('\n')[0] ?? '')}\n`);
  process.exitCode = 2;
}
