// Preloaded into a child that runs the real CLI (`node --import
// dist/exit-report.js dist/cli.js ...`): when the process exits it prints the
// line bench/measure.ts reads as the last line of stdout (time since the
// process started, peak RSS of every thread, CPU time), plus the total and
// summary of the command's JSON document, which it keeps as it is written.

let written = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

process.on('exit', () => {
  const cpu = process.cpuUsage();
  let document: { total?: unknown; summary?: unknown; changed?: unknown[]; unused?: unknown[] } = {};
  try {
    document = JSON.parse(written) as typeof document;
  } catch {
    // not a JSON command: times only
  }
  write(`\n${JSON.stringify({
    total: document.total, summary: document.summary, changed: document.changed?.length, unused: document.unused?.length,
    cpuMs: (cpu.user + cpu.system) / 1000, ms: performance.now(), maxRssKb: process.resourceUsage().maxRSS,
  })}\n`);
});
