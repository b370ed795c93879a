// A one-line progress bar for long runs (`mandate simulate` over a large call
// log). Hand-written rather than a dependency: it is twenty lines, bundles to
// nothing, and only ever draws on a terminal. It writes to stderr only when
// stderr is a TTY (and TERM is not `dumb`), redraws at most ten times a
// second, and erases itself when done, so piped and machine output never see it.

/** A progress display; every method is a no-op when it is not drawing. */
export interface Progress {
  /** `done` out of the total given at creation; `detail` is shown after the percentage. */
  update(done: number, detail?: string): void;
  /** Erases the bar. */
  finish(): void;
}

const NONE: Progress = { update() {}, finish() {} };
const REDRAW_MS = 100;

/** A bar on `stream` (default stderr) when it is a terminal, else a no-op. */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true || process.env.TERM === 'dumb' || total <= 0) return NONE;
  let last = 0;
  let drawn = false;
  return {
    update(done, detail = '') {
      const now = Date.now();
      if (now - last < REDRAW_MS) return;
      last = now;
      const fraction = Math.min(1, Math.max(0, done / total));
      const columns = stream.columns ?? 80;
      const width = Math.max(10, Math.min(30, columns - label.length - detail.length - 12));
      const filled = Math.round(fraction * width);
      const line = `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${detail}`;
      stream.write(`\r${line.slice(0, Math.max(0, columns - 1))}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
