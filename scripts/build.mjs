// Bundles src/ into two files and each third-party library into dist/vendor/, loaded on first use
// (yaml for config edits, execa for child processes, listr2 and enquirer for the terminal):
// - dist/cli.js, the entry and the installed command (package.json `bin`, run through its node
//   line): a bare --version or --help is answered from the schema alone, which keeps them within
//   the design's start-up target (bench/changes.md);
// - dist/main.js, the whole tool in one file, loaded by cli.js for everything else: Node's ESM
//   loader pays per module, and split into esbuild's ~25 chunks the tool started measurably slower.
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let build;
try {
  ({ build } = await import('esbuild'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  // A fresh clone has no node_modules yet: `npm pack` runs this through prepack.
  console.error('build: esbuild is not installed; run `npm ci` (or scripts/setup.sh) first, then `npm pack` again');
  process.exit(1);
}

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
const vendors = await build({
  ...common,
  metafile: true,
  entryPoints: Object.fromEntries(Object.entries(VENDORS).map(([pkg, name]) => [name, pkg])),
  outdir: 'dist/vendor',
  // listr2's enquirer adapter and listr2 share code: one copy, in a chunk of their own.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: requireShim },
});
const entry = await build({
  ...common,
  metafile: true,
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
const tool = await build({
  ...common,
  metafile: true,
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
writeNotices([vendors, entry, tool].map((b) => b.metafile));

/**
 * The MIT and ISC licences of the bundled libraries ask for their notices to travel with the code:
 * every package esbuild put into dist/ gets its licence text in dist/THIRD-PARTY-NOTICES.md.
 */
function writeNotices(metafiles) {
  const packages = new Set();
  for (const input of metafiles.flatMap((m) => Object.keys(m.inputs))) {
    const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
    if (m) packages.add(m.at(-1).slice('node_modules/'.length, -1));
  }
  const parts = ['# Third-party notices', '', 'dist/vendor bundles these libraries; their licences follow.', ''];
  for (const name of [...packages].sort()) {
    const dir = join('node_modules', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)([.-]|$)/i.test(f));
    if (!file) throw new Error(`build: ${name} ships no licence file; its notice cannot be included`);
    parts.push(`## ${name} ${pkg.version} (${pkg.license})`, '', readFileSync(join(dir, file), 'utf8').trim(), '');
  }
  if (!existsSync('dist')) throw new Error('build: dist/ is missing');
  writeFileSync('dist/THIRD-PARTY-NOTICES.md', parts.join('\n'));
}
