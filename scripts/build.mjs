// Bundles src/ into dist/ with code splitting, so `--version` and `--help` load only the
// entry chunk and each command pulls in its own libraries on demand (deps.md §8).
import { build } from 'esbuild';
import { rmSync, chmodSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  // CJS dependencies (enquirer, yaml) call require() inside the ESM bundle.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __csbCreateRequire } from 'node:module'; const require = __csbCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
chmodSync('dist/cli.js', 0o755);
