/**
 * The package as users get it, not the clone: the working tree copied without dist/ (as a fresh
 * clone has it), `npm pack` there (prepack builds dist/), the tarball checked (size budget, what it
 * holds), installed by npm into an empty project and run through npx: `--help`, a
 * `--yes --check vault` run on the real server and the `down` its next steps print. Offline: the
 * package has no runtime dependencies, and npm is told never to reach a registry.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limit, missing, ROOT, serverBinary } from '../support/env.js';
import { runProcess, TEMP_PREFIX, workspaces } from '../support/sandbox.js';

/** The size budget of the packed tarball (gzip), also stated in the README: about 300 kB now. */
const TARBALL_BUDGET_BYTES = 400 * 1024;

const SERVER = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', SERVER);
const ws = workspaces(SERVER);
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

/** npm never reaches a registry here: a tarball without runtime dependencies needs none. */
const OFFLINE = { npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

/** What the tarball may hold at its top level (package.json `files`, plus what npm always adds). */
const ALLOWED_TOP = ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'package.json', 'requirements', 'templates'];

/** Names no published file may have: tests, fixtures, source maps, env files, keys, sandbox state. */
const FORBIDDEN_NAME =
  /(^|\/)(test|tests|__tests__|fixtures|bench|coverage|\.sandbox)(\/|$)|\.(test|spec)\.[cm]?[jt]s$|\.map$|(^|\/)\.env$|\.(pem|key|tgz)$|(^|\/)(\.npmrc|\.vault-token|state\.json)$/;

/** Contents no published file may hold: keys and tokens of the kinds this project handles, a source map link. */
const FORBIDDEN_TEXT: [string, RegExp][] = [
  ['a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['a Vault or OpenBao token', /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/],
  ['an AWS access key id', /\bAKIA[0-9A-Z]{16}\b/],
  ['a GitHub or npm token', /\b(ghp|gho|npm)_[A-Za-z0-9]{36}\b/],
  ['a source map link', /sourceMappingURL=/],
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => lstatSync(join(dir, f)).isFile())
    .sort();
}

/** The working tree as a fresh clone has it (tracked and new files, nothing ignored: no dist/), sharing node_modules. */
function copyWorkingTree(dest: string): void {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  for (const f of listed.split('\0')) {
    if (!f || !existsSync(join(ROOT, f))) continue; // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dest, f), { verbatimSymlinks: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dest, 'node_modules'));
}

describe.skipIf(skipReason)('the package npm would publish', () => {
  let tmp: string;
  let tarball: string;
  let unpacked: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}pack-`));
    const clone = join(tmp, 'clone');
    copyWorkingTree(clone);
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    const out = execFileSync('npm', ['pack', '--pack-destination', tmp, '--silent'], {
      cwd: clone,
      encoding: 'utf8',
      env: { ...process.env, ...OFFLINE },
    });
    tarball = join(tmp, out.trim().split('\n').at(-1) ?? '');
    unpacked = join(tmp, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    unpacked = join(unpacked, 'package');
  }, limit(40_000));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(`is built on pack, within its size budget (${TARBALL_BUDGET_BYTES / 1024} kB), and says what it is`, () => {
    expect(tarball).toBe(join(tmp, `${PKG.name}-${PKG.version}.tgz`));
    const size = lstatSync(tarball).size;
    expect(size, `tarball ${size} bytes`).toBeLessThanOrEqual(TARBALL_BUDGET_BYTES);
    const cli = readFileSync(join(unpacked, 'dist', 'cli.js'), 'utf8');
    expect(cli.split('\n')[0]).toBe('#!/usr/bin/env node');
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ [PKG.name]: 'dist/cli.js' });
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.license).toBe('Apache-2.0');
    for (const key of ['repository', 'homepage', 'bugs', 'author', 'engines']) expect(pkg[key], key).toBeTruthy();
    expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(readFileSync(join(unpacked, 'CHANGELOG.md'), 'utf8')).toContain(`## [${PKG.version}]`);
    // The README's requirement is the engines field's, in the README that ships.
    expect(pkg.engines.node).toMatch(/^>=\d+\.\d+$/);
    expect(readFileSync(join(unpacked, 'README.md'), 'utf8')).toContain(
      `Node.js ${pkg.engines.node.slice(2)} or later`,
    );
    // The bundled libraries' licences (MIT, ISC) travel with their code.
    const notices = readFileSync(join(unpacked, 'dist', 'THIRD-PARTY-NOTICES.md'), 'utf8');
    for (const lib of ['yaml', 'execa', 'listr2', 'enquirer'])
      expect(notices).toMatch(new RegExp(`^## ${lib} \\d`, 'm'));
    expect(notices).toContain('Permission is hereby granted');
  });

  it('refuses an older Node with one line naming the version it needs', async () => {
    // Node before 20.12 lacks util.styleText; the version is what the entry reads, so present an older one.
    const older =
      'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.11.1"}});' +
      'Object.defineProperty(process,"version",{value:"v20.11.1"})';
    const r = await runProcess(process.execPath, ['--import', older, join(unpacked, 'dist', 'cli.js'), '--yes'], {
      cwd: tmp,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: create-secrets-sandbox needs Node.js 20.12 or later; this is v20.11.1\n');
    expect(r.stdout).toBe('');
  });

  it(
    'npm publish --dry-run, from the same tree, would publish exactly this tarball',
    () => {
      const out = execFileSync('npm', ['publish', '--dry-run', '--json'], {
        cwd: join(tmp, 'clone'),
        encoding: 'utf8',
        env: { ...process.env, ...OFFLINE },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const published = (JSON.parse(out) as Record<string, { shasum: string; id: string }>)[PKG.name];
      expect(published?.id).toBe(`${PKG.name}@${PKG.version}`);
      expect(published?.shasum).toBe(createHash('sha1').update(readFileSync(tarball)).digest('hex'));
    },
    limit(40_000),
  );

  it('holds only what the tool needs: no tests, fixtures, source maps, build-machine paths or secrets', () => {
    const files = filesUnder(unpacked);
    expect([...new Set(files.map((f) => f.split('/')[0]))].sort()).toEqual(ALLOWED_TOP);
    expect(files.filter((f) => FORBIDDEN_NAME.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('requirements/'))).toEqual([
      'requirements/airflow2.txt',
      'requirements/airflow3.txt',
    ]);
    // Paths of the machine that built it: the working tree, the copy packed, the home dir, and the install
    // cache node_modules links to, also as the bundler would spell it from the copy.
    const cache = realpathSync(join(ROOT, 'node_modules'));
    const machine = [ROOT, tmp, `${homedir()}/`, cache, relative(join(tmp, 'clone'), cache)];
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(unpacked, f), 'utf8');
      for (const [what, re] of FORBIDDEN_TEXT) if (re.test(text)) found.push(`${f}: ${what}`);
      for (const p of machine) if (text.includes(p)) found.push(`${f}: the build machine's path ${p}`);
    }
    expect(found).toEqual([]);
  });

  it('installs into an empty project and runs through npx: --help, a --yes --check vault run, and down', async () => {
    const w = ws(OFFLINE);
    const project = join(w.root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'empty-project', private: true })}\n`);
    const install = await runProcess('npm', ['install', '--save-dev', tarball], {
      cwd: project,
      env: w.env,
      timeoutMs: limit(20_000),
    });
    expect(install.code, install.stdout + install.stderr).toBe(0);
    const npx = (args: string[]) => runProcess('npx', [PKG.name, ...args], { cwd: project, env: w.env });

    const help = await npx(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe(`${PKG.name} ${PKG.version}`);
    expect(help.stdout).toContain(`Usage:\n  ${PKG.name} [dir] [options]`);
    expect(await npx(['--version'])).toMatchObject({ code: 0, stdout: `${PKG.version}\n` });

    const create = await npx(['sb', '--yes', '--check', 'vault']);
    expect(create.code, create.stdout + create.stderr).toBe(0);
    const state = JSON.parse(readFileSync(join(project, 'sb', '.sandbox', 'state.json'), 'utf8'));
    expect(readFileSync(`/proc/${state.server.pid}/cmdline`, 'utf8')).toContain('server');
    // The next steps name the command as this user runs it, and the `down` line works when pasted.
    const down = create.stdout.match(/^\s*(npx create-secrets-sandbox down \S+)/m)?.[1];
    expect(down, create.stdout).toBe('npx create-secrets-sandbox down ./sb');
    const stopped = await runProcess('sh', ['-c', down ?? ''], { cwd: project, env: w.env });
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('stopped the sandbox server');
    // workspaces() fails the test if any server is left running under the workspace.
  });

  it('installs globally: the bin npm links is dist/cli.js, run through its node line', async () => {
    const w = ws(OFFLINE);
    const prefix = join(w.root, 'prefix');
    const install = await runProcess('npm', ['install', '--global', '--prefix', prefix, tarball], {
      cwd: w.cwd,
      env: w.env,
      timeoutMs: limit(20_000),
    });
    expect(install.code, install.stdout + install.stderr).toBe(0);
    const link = join(prefix, 'bin', PKG.name);
    expect(relative(join(prefix, 'bin'), join(dirname(link), readlinkSync(link)))).toBe(
      join('..', 'lib', 'node_modules', PKG.name, 'dist', 'cli.js'),
    );
    const env = { ...w.env, PATH: `${join(prefix, 'bin')}:${w.env.PATH}` };
    expect(await runProcess(PKG.name, ['--version'], { cwd: w.cwd, env })).toMatchObject({
      code: 0,
      stdout: `${PKG.version}\n`,
    });
  });
});
