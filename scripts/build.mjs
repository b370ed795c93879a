// Bundles the CLI (and the benchmark runner) into single ESM files under dist/,
// dependencies included: one file loads about 4x faster than resolving
// hundreds of modules at every start (mandate rules: 1.4 s -> 0.35 s here).
// CommonJS dependencies (ajv) get a real `require` through createRequire.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __mandateRequire } from 'node:module';\nconst require = __mandateRequire(import.meta.url);" },
};
await build({ ...common, entryPoints: { cli: 'cli/main.ts' }, outdir: 'dist', banner: { js: `#!/usr/bin/env node\n${common.banner.js}` } });
await build({ ...common, entryPoints: { bench: 'bench/main.ts' }, outdir: 'dist' });
