// Bundles src/ into two files and each third-party library into dist/vendor/, loaded on first use
// (yaml for config edits, execa for child processes, listr2 and enquirer for the terminal):
// - dist/cli.js, the entry and the installed command (package.json `bin`, run through its node
//   line): a bare --version or --help is answered from the schema alone, which keeps them within
//   the design's start-up target (bench/changes.md);
// - dist/main.js, the whole tool in one file, loaded by cli.js for everything else: Node's ESM
//   loader pays per module, and split into esbuild's ~25 chunks the tool started measurably slower.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

// CJS libraries (enquirer, yaml) call require() inside an ESM bundle.
const requireShim =
  "import { createRequire as __csbCreateRequire } from 'node:module'; const require = __csbCreateRequire(import.meta.url);";
const VENDORS = {
  yaml: 'yaml',
  execa: 'execa',
  listr2: 'listr2',
  enquirer: 'enquirer',
  '@listr2/prompt-adapter-enquirer': 'listr2-enquirer',
};
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // node_modules is a link into the install cache (scripts/cache.sh): without this, the bundle's module
  // comments and CommonJS wrapper keys would name the cache's real path on the build machine.
  preserveSymlinks: true,
};

rmSync('dist', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(VENDORS).map(([pkg, name]) => [name, pkg])),
  outdir: 'dist/vendor',
  // listr2's enquirer adapter and listr2 share code: one copy, in a chunk of their own.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: requireShim },
});
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  splitting: false,
  banner: { js: '#!/usr/bin/env node' },
  plugins: [
    {
      name: 'main',
      setup: (b) => b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './main.js', external: true })),
    },
  ],
});
await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  splitting: false,
  banner: { js: requireShim },
  plugins: [
    {
      name: 'vendors',
      setup(b) {
        const names = Object.keys(VENDORS).map((n) => n.replace(/[/@]/g, (c) => `\\${c}`));
        b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (a) => ({
          path: `./vendor/${VENDORS[a.path]}.js`,
          external: true,
        }));
      },
    },
  ],
});
chmodSync('dist/cli.js', 0o755);
