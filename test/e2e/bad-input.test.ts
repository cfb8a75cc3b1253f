/**
 * Bad input, table-driven: every case exits 2 with one line that names the bad value, and leaves
 * the directory exactly as it was, with no server started.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { cleanup, runCli, serversUnder, workspace, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);

interface Case {
  name: string;
  args: string[];
  /** What the one line must contain: the bad value, and where useful the fix. */
  says: (string | RegExp)[];
  setup?: (w: Workspace) => void;
}

const yaml = (w: Workspace, text: string) => {
  mkdirSync(join(w.cwd, 'secrets-sandbox'), { recursive: true });
  writeFileSync(join(w.cwd, 'secrets-sandbox', 'secrets-sandbox.yaml'), text);
};

export const CASES: Case[] = [
  { name: 'unknown flag', args: ['--bogus'], says: ["'--bogus'", '--help'] },
  { name: 'unknown short flag', args: ['-x'], says: ["'-x'"] },
  { name: 'a subcommand typo', args: ['docter'], says: ["'docter'", "'doctor'"] },
  { name: 'two directories', args: ['a', 'b', '--yes'], says: ["'b'"] },
  { name: 'status with a create flag', args: ['status', '--mount', 'x'], says: ['--mount', "'status'"] },
  { name: '--fix outside doctor', args: ['--fix', '--yes'], says: ['--fix', 'doctor'] },
  { name: 'missing value for --address', args: ['--yes', '--address'], says: ['--address', 'needs a value'] },
  { name: 'missing value for --conn', args: ['--yes', '--conn'], says: ['--conn', 'needs a value'] },
  { name: '--dag with --no-dag', args: ['--yes', '--dag', '--no-dag'], says: ['--no-dag'] },
  { name: '--keep without --check run', args: ['--yes', '--keep'], says: ['--keep', '--check run'] },
  {
    name: '--check run with --no-dag',
    args: ['--yes', '--check', 'run', '--no-dag'],
    says: ['--check run', '--no-dag'],
  },
  {
    name: '--check dag with --no-dag',
    args: ['--yes', '--check', 'dag', '--no-dag'],
    says: ['--check dag', '--no-dag'],
  },
  { name: 'no TTY and no --yes', args: [], says: ['--yes'] },
  { name: '--conn without =', args: ['--yes', '--conn', 'smtp_default'], says: ["'smtp_default'", 'ID=URI'] },
  { name: 'empty connection id', args: ['--yes', '--conn', '=smtp://h'], says: ["connection id ''", 'is empty'] },
  { name: 'connection id with a space', args: ['--yes', '--conn', 'my conn=smtp://h'], says: ["'my conn'"] },
  { name: 'connection id with a slash', args: ['--yes', '--conn', 'a/b=smtp://h'], says: ["'a/b'"] },
  { name: 'connection id ..', args: ['--yes', '--conn', '..=smtp://h'], says: ["'..'", 'path step'] },
  {
    name: 'connection id of 251 characters',
    args: ['--yes', '--conn', `${'c'.repeat(251)}=smtp://h`],
    says: ['251 characters'],
  },
  {
    name: 'raw / in a password',
    args: ['--yes', '--conn', 'x=mysql://user:pa/ss@host:3306/db'],
    says: ["'x'", 'reads part of the password as the port', '%2F'],
  },
  {
    name: 'raw # in a password',
    args: ['--yes', '--conn', 'x=mysql://user:pa#ss@host:3306/db'],
    says: ["'x'", 'Port could not be cast'],
  },
  {
    name: 'protocol after login',
    args: ['--yes', '--conn', 'x=mysql://user:pass@https://host'],
    says: ['Invalid connection string'],
  },
  { name: 'three schemes', args: ['--yes', '--conn', 'x=a://b://c://d'], says: ["more than two '://'"] },
  { name: 'port out of range in a URI', args: ['--yes', '--conn', 'x=http://host:99999'], says: ['Port out of range'] },
  { name: 'port not a number in a URI', args: ['--yes', '--conn', 'x=http://host:abc'], says: ["'abc'"] },
  {
    name: 'underscore in a scheme',
    args: ['--yes', '--conn', 'x=my_type://host'],
    says: ["has a type 'my_type' holding '_'", "'-'"],
  },
  {
    name: "a missing ':' in the scheme is named as such, never as a '_' it does not hold",
    args: ['--yes', '--conn', 'my_pg=postgres//u:p@db:5432/x'],
    says: ["--conn: the URI for 'my_pg' starts with 'postgres//' where 'postgres://' belongs"],
  },
  { name: 'no scheme at all', args: ['--yes', '--conn', 'x=just-a-host'], says: ["'<type>://'"] },
  { name: 'empty URI', args: ['--yes', '--conn', 'x='], says: ["'x'", 'is empty'] },
  { name: 'broken IPv6 host', args: ['--yes', '--conn', 'x=postgres://u:p@[::zz]/db'], says: ['IPv6'] },
  { name: 'port 0', args: ['--yes', '--address', '127.0.0.1:0'], says: ["'127.0.0.1:0'", '1-65534'] },
  { name: 'port 70000', args: ['--yes', '--address', '127.0.0.1:70000'], says: ["'127.0.0.1:70000'"] },
  { name: 'address without a port', args: ['--yes', '--address', 'localhost'], says: ["'localhost'", 'HOST:PORT'] },
  {
    name: 'non-loopback address',
    args: ['--yes', '--address', '10.0.0.1:8200'],
    says: ["'10.0.0.1:8200'", '--allow-remote'],
  },
  { name: 'all interfaces', args: ['--yes', '--address', '0.0.0.0:8200'], says: ["'0.0.0.0:8200'", 'loopback'] },
  { name: 'unknown Airflow version', args: ['--yes', '--airflow-version', '4'], says: ["'4'", '1.10, 2, 3'] },
  { name: 'unknown check level', args: ['--yes', '--check', 'full'], says: ["'full'"] },
  { name: 'unknown storage format', args: ['--yes', '--format', 'xml'], says: ["'xml'", 'uri, fields'] },
  { name: 'fields on 1.10', args: ['--yes', '--format', 'fields', '--airflow-version', '1.10'], says: ['1.10'] },
  { name: 'root token with a dot', args: ['--yes', '--root-token', 'hvs.abc'], says: ["'.'"] },
  { name: 'empty root token', args: ['--yes', '--root-token', ''], says: ['--root-token', 'empty'] },
  { name: '--var without =', args: ['--yes', '--var', 'flag'], says: ["'flag'", 'KEY=VALUE'] },
  { name: 'variable key with a slash', args: ['--yes', '--var', 'a/b=1'], says: ["'a/b'"] },
  { name: 'empty mount', args: ['--yes', '--mount', '/'], says: ["--mount '/'"] },
  { name: 'mount with ..', args: ['--yes', '--mount', 'a/../b'], says: ["'..'"] },
  {
    name: 'mount repeated in the path',
    args: ['--yes', '--connections-path', 'secret/connections'],
    says: ["'secret/connections'", '--connections-path connections'],
  },
  {
    name: 'same path for connections and variables',
    args: ['--yes', '--connections-path', 'x', '--variables-path', 'x'],
    says: ["'x'"],
  },
  {
    name: 'vault binary that is not there',
    args: ['--yes', '--vault-bin', '/nonexistent/vault'],
    says: ["'/nonexistent/vault'"],
  },
  {
    name: 'airflow binary that is not there',
    args: ['--yes', '--airflow-bin', '/nonexistent/airflow'],
    says: ["'/nonexistent/airflow'"],
  },
  {
    name: 'config file that is not there',
    args: ['--yes', '--config', 'nope.yaml'],
    says: ["'nope.yaml'", 'does not exist'],
  },
  {
    name: 'invalid YAML in the config',
    args: ['--yes'],
    setup: (w) => yaml(w, 'vault:\n  mount: [oops\n'),
    says: [/secrets-sandbox\.yaml:\d+:\d+: not valid YAML/],
  },
  {
    name: 'wrong type in the config',
    args: ['--yes'],
    setup: (w) => yaml(w, 'vault:\n  kv_version: two\n'),
    says: [/secrets-sandbox\.yaml:2:3: vault\.kv_version is "two"/],
  },
  {
    name: 'connections as a list in the config',
    args: ['--yes'],
    setup: (w) => yaml(w, 'connections:\n  - smtp://h\n'),
    says: [/secrets-sandbox\.yaml:\d+:\d+: connections must be a mapping/],
  },
  {
    name: 'unknown setting in the config',
    args: ['--yes'],
    setup: (w) => yaml(w, 'airflow:\n  verison: "3"\n'),
    says: ['airflow.verison is not a setting'],
  },
  {
    name: 'bad URI in the config',
    args: ['--yes'],
    setup: (w) => yaml(w, 'connections:\n  x: mysql://u:pa/ss@h/db\n'),
    says: ['connections.x', 'part of the password'],
  },
  {
    name: 'non-loopback address in the config',
    args: ['--yes'],
    setup: (w) => yaml(w, 'server:\n  address: 192.168.1.10:8200\n'),
    says: ["'192.168.1.10:8200'"],
  },
  {
    name: 'sandbox dir that is a file',
    args: ['--yes', 'afile'],
    setup: (w) => writeFileSync(join(w.cwd, 'afile'), 'x'),
    says: ["'afile'", 'is a file'],
  },
  {
    name: 'dags dir that is a file',
    args: ['--yes', '--dags-dir', 'afile'],
    setup: (w) => writeFileSync(join(w.cwd, 'afile'), 'x'),
    says: ["'afile'", 'is a file'],
  },
  {
    name: 'sandbox dir under a read-only place',
    args: ['--yes', '/proc/secrets-sandbox'],
    says: ["'/proc/secrets-sandbox'", 'not writable'],
  },
  { name: 'up without a sandbox', args: ['up'], says: ['secrets-sandbox.yaml', '--yes'] },
  // Issue 21: bad input is bad input everywhere, before anything starts.
  {
    name: 'issue 21: server.address 127.0.0.999:9106 in the config is exit 2 (not "already in use")',
    args: ['--yes'],
    setup: (w) => yaml(w, 'server:\n  address: 127.0.0.999:9106\n'),
    says: ["'127.0.0.999:9106'", "'127.0.0.999'", 'not an IPv4 address'],
  },
  {
    name: 'issue 21: --address 127.0.0.999:9106 is exit 2',
    args: ['--yes', '--address', '127.0.0.999:9106'],
    says: ["'127.0.0.999'", 'not an IPv4 address'],
  },
  {
    name: 'a listen host that is no host name',
    args: ['--yes', '--allow-remote', '--address', 'my_host:8200'],
    says: ["'my_host'", 'not a host name'],
  },
  {
    name: 'a listen address that is not this machine',
    args: ['--yes', '--allow-remote', '--address', '192.0.2.1:8200'],
    says: ['192.0.2.1:8200', 'not an address of this machine'],
  },
  {
    name: 'issue 21: --secret-id-ttl 99999999999d is refused up front',
    args: ['--yes', '--auth', 'approle', '--secret-id-ttl', '99999999999d'],
    says: ["'99999999999d'", 'longer than Vault can hold'],
  },
  {
    name: 'issue 21: a connection id -x given as --conn -x=URI says how to write it',
    args: ['--yes', '--conn', '-x=postgres://u:p@h/d'],
    says: ['--conn', '--conn=VALUE'],
  },
  {
    name: 'issue 21: a YAML !!binary value is named with its line, not "unknown field \'0\'"',
    args: ['--yes'],
    setup: (w) => yaml(w, 'connections:\n  c: !!binary aGVsbG8=\n'),
    says: [/secrets-sandbox\.yaml:2:\d+: connections\.c carries the YAML tag !!binary/],
  },
];

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      out.push(`${p}:${statSync(p).size}:${statSync(p).mtimeMs}`);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe.skipIf(skipReason)('bad input: exit 2, one line, nothing written, nothing started', () => {
  const spaces: Workspace[] = [];
  afterAll(() => {
    for (const w of spaces) expect(cleanup(w)).toEqual([]);
  });

  it(`has at least 40 cases`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const w = workspace(BIN);
    spaces.push(w);
    c.setup?.(w);
    const before = snapshot(w.cwd);
    const r = await runCli(w, c.args);
    expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    for (const s of c.says) {
      if (typeof s === 'string') expect(lines[0]).toContain(s);
      else expect(lines[0]).toMatch(s);
    }
    expect(r.stdout).toBe('');
    expect(snapshot(w.cwd)).toEqual(before);
    expect(serversUnder(w.root)).toEqual([]);
  });

  it('--json reports bad input as JSON on stdout, still exit 2', async () => {
    const w = workspace(BIN);
    spaces.push(w);
    const r = await runCli(w, ['--yes', '--json', '--conn', 'x=http://host:abc']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exit_code: 2 });
  });
});
