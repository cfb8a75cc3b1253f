/**
 * The command npm installs, bin/create-secrets-sandbox: a sh launcher that runs Node on
 * dist/cli.js and hands NODE_EXTRA_CA_CERTS over instead of letting Node 20 build its whole root
 * store at start (~70 ms here). Judged by what users see: the package as `npm pack` makes it,
 * installed by npm into a prefix and run through npm's link; a real TLS server whose CA is trusted
 * only through NODE_EXTRA_CA_CERTS, with plain `node dist/cli.js` (Node's own handling) as the
 * oracle; the environment the started server really got (/proc).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI, missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { runCli, runProcess, TEMP_PREFIX, workspaces } from '../support/sandbox.js';
import { startExistingVault, type ExistingVault } from '../support/existing-vault.js';

const SERVER = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', SERVER);
const ws = workspaces(SERVER);
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

describe.skipIf(skipReason)('the installed command', () => {
  let prefix: string;
  beforeAll(() => {
    prefix = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}npm-`));
    const out = execFileSync('npm', ['pack', '--pack-destination', prefix, '--silent', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const tgz = join(prefix, out.split('\n').at(-1)!);
    // No runtime dependencies (everything is bundled into dist/): this installs offline.
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', join(prefix, 'p'), tgz, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'],
      { cwd: prefix, stdio: 'pipe' },
    );
  }, scaled(120_000));
  afterAll(() => rmSync(prefix, { recursive: true, force: true }));

  it('runs through the link npm made, and names itself as the user runs it', async () => {
    const bin = join(prefix, 'p', 'bin', 'create-secrets-sandbox');
    const w = ws();
    const env = { ...w.env, PATH: `${join(prefix, 'p', 'bin')}:${w.env.PATH}` };
    const v = await runProcess(bin, ['--version'], { cwd: w.cwd, env });
    expect(v).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const r = await runProcess('create-secrets-sandbox', ['sb', '--yes', '--check', 'vault'], { cwd: w.cwd, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Next steps name the command on PATH, and it works when pasted.
    expect(r.stdout).toContain('create-secrets-sandbox down ./sb ');
    expect(r.stdout).not.toMatch(/node \S*cli\.js/);
    const down = await runProcess('sh', ['-c', 'create-secrets-sandbox down ./sb'], { cwd: w.cwd, env });
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped the sandbox server');
  });
});

describe.skipIf(skipReason)('NODE_EXTRA_CA_CERTS through the launcher', () => {
  let v: ExistingVault;
  beforeAll(async () => {
    v = await startExistingVault(SERVER!);
  }, scaled(120_000));
  afterAll(async () => v?.stop());

  it('a TLS Vault whose CA only NODE_EXTRA_CA_CERTS names is trusted as plain Node trusts it; another bundle is not enough', async () => {
    const w = ws({ VAULT_TOKEN: v.rootToken });
    const args = (dir: string) => [dir, '--yes', '--vault-url', v.url, '--check', 'vault'];
    // The oracle: Node loading the file itself.
    const viaNode = await runProcess(process.execPath, [CLI, ...args('by-node')], {
      cwd: w.cwd,
      env: { ...w.env, NODE_EXTRA_CA_CERTS: v.caFile },
    });
    expect(viaNode.code, viaNode.stdout + viaNode.stderr).toBe(0);
    const viaBin = await runCli(w, args('by-bin'), { env: { NODE_EXTRA_CA_CERTS: v.caFile } });
    expect(viaBin.code, viaBin.stdout + viaBin.stderr).toBe(0);
    expect(viaBin.stdout).toContain(`using the existing Vault at ${v.url}`);
    for (const extra of [undefined, '/etc/ssl/certs/ca-certificates.crt']) {
      if (extra && !existsSync(extra)) continue;
      const env = { ...w.env };
      delete env.NODE_EXTRA_CA_CERTS;
      if (extra) env.NODE_EXTRA_CA_CERTS = extra;
      const r = await runProcess(BIN, args(`untrusted-${extra ? 'bundle' : 'none'}`), { cwd: w.cwd, env });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/not signed by a CA this machine trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    }
  });

  it('children get the variable as the user set it; a plain-HTTP run never reads the file', async () => {
    const w = ws();
    const missingFile = join(w.root, 'no-such-ca.pem');
    // Node itself reads the file at start and warns about it on every run.
    const plain = await runProcess(process.execPath, [CLI, '--version'], {
      cwd: w.cwd,
      env: { ...w.env, NODE_EXTRA_CA_CERTS: missingFile },
    });
    expect(plain.stderr).toContain(`Ignoring extra certs from \`${missingFile}\``);
    const r = await runCli(w, ['sb', '--yes', '--check', 'vault'], { env: { NODE_EXTRA_CA_CERTS: missingFile } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).not.toContain('Ignoring extra certs');
    const pid = JSON.parse(readFileSync(join(w.cwd, 'sb', '.sandbox', 'state.json'), 'utf8')).server.pid as number;
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`NODE_EXTRA_CA_CERTS=${missingFile}`);
    expect(environ.filter((e) => e.startsWith('CREATE_SECRETS_SANDBOX_'))).toEqual([]);
    expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
  });
});

// The launcher finds dist/ through any chain of links (npm's .bin links are relative).
describe('the launcher script', () => {
  it('resolves relative and absolute links to the package', async () => {
    const d = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}links-`));
    execFileSync('ln', ['-s', BIN, join(d, 'abs')]);
    execFileSync('ln', ['-s', 'abs', join(d, 'rel')], { cwd: d });
    for (const [cmd, args, cwd] of [
      [join(d, 'rel'), [], d],
      ['sh', ['rel'], d],
      ['./rel', [], d],
    ] as const) {
      const r = await runProcess(cmd, [...args, '--version'], { cwd, env: process.env });
      expect(r, `${cmd} ${args.join(' ')}`).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    }
    expect(readdirSync(d).sort()).toEqual(['abs', 'rel']);
    rmSync(d, { recursive: true, force: true });
  });

  it('defers the CA file only when Node would use its bundled roots (not with --use-openssl-ca in NODE_OPTIONS)', async () => {
    const missingFile = join(tmpdir(), `${TEMP_PREFIX}no-such-ca-${process.pid}.pem`);
    // Node warns at start about a file it tried to load: the warning says who loaded it.
    const deferred = await runProcess(BIN, ['--version'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: missingFile },
    });
    expect(deferred).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(deferred.stderr).not.toContain('Ignoring extra certs');
    const own = await runProcess(BIN, ['--version'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: missingFile, NODE_OPTIONS: '--use-openssl-ca' },
    });
    expect(own.code).toBe(0);
    expect(own.stderr).toContain(`Ignoring extra certs from \`${missingFile}\``);
  });
});
