/**
 * Set-ups of Airflow's Vault backend settings, generated over every input Airflow reads them from:
 * the shell's environment and the .env sourced on top (quoting, `$VAR`, `$(...)`, CRLF), the kwargs
 * JSON from the environment, its _CMD, or airflow.cfg (`%`/`%%`, multi-line values, `_cmd`), the
 * per-key AIRFLOW__SECRETS__BACKEND_KWARG__* variables, the class path (both majors' paths, `$VAR`),
 * the kwargs themselves (lists, nulls, wrong types, unknown keys), and Airflow 3's [workers] chain.
 * test/e2e/backend-settings.airflow.test.ts asks real Airflow and the reader about each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fc } from '@fast-check/vitest';

export interface SetUp {
  name: string;
  /** Exported in the shell the user works in, before the .env is loaded. */
  shell: Record<string, string>;
  /** .env lines, as written; `crlf` writes them with \r\n. */
  envFile?: { lines: string[]; crlf?: boolean };
  /** airflow.cfg text, written to <dir>/airflow/airflow.cfg (AIRFLOW_HOME), or where `cfgPath` says. */
  cfg?: string;
  /** Where airflow.cfg goes, relative to the set-up dir, when AIRFLOW_CONFIG names it. */
  cfgPath?: string;
  /** Other files, relative to the set-up dir. */
  files?: Record<string, string>;
}

export const PROVIDER = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';

/** What every set-up's shell holds besides its own variables. */
export function baseShell(dir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    AIRFLOW_HOME: join(dir, 'airflow'),
    LANG: 'C.UTF-8',
    CSS_ADDR: 'http://from-var:8200',
    CSS_MOD: 'airflow.providers.hashicorp.secrets.vault',
  };
}

export function materialize(s: SetUp, dir: string): { base: Record<string, string>; envFile?: string } {
  mkdirSync(join(dir, 'home'), { recursive: true });
  mkdirSync(join(dir, 'airflow'), { recursive: true });
  for (const [rel, text] of Object.entries(s.files ?? {})) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  if (s.cfg !== undefined) {
    const p = join(dir, s.cfgPath ?? 'airflow/airflow.cfg');
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, s.cfg);
  }
  let envFile: string | undefined;
  if (s.envFile) {
    envFile = join(dir, '.env');
    const eol = s.envFile.crlf ? '\r\n' : '\n';
    writeFileSync(envFile, s.envFile.lines.join(eol) + eol);
  }
  return { base: { ...baseShell(dir), ...s.shell }, ...(envFile ? { envFile } : {}) };
}

// --- the pieces ------------------------------------------------------------------------------

const kwargValues = {
  url: fc.constantFrom('http://127.0.0.1:8200', 'https://vault.example:8200/', '$CSS_ADDR', '${CSS_ADDR}/v', '~/u'),
  token: fc.constantFrom('hvs.abc', 'tok$HOME', "to'k", 'p%w', 'a b', ''),
  token_path: fc.constant('/nonexistent/token'),
  connections_path: fc.oneof(
    fc.constantFrom<unknown>('connections', 'airflow/connections/', '', null, 5, { k: 1 }, [1]),
    fc.array(fc.constantFrom('a', 'b/', 'c/d'), { maxLength: 3 }),
  ),
  variables_path: fc.constantFrom<unknown>('variables', null, ['v1', 'v2']),
  config_path: fc.constantFrom<unknown>(null, 'config'),
  global_secrets_path: fc.constantFrom<unknown>('common/', 5),
  mount_point: fc.constantFrom<unknown>('secret', 'secret/', null, 'kv', ''),
  kv_engine_version: fc.constantFrom<unknown>(1, 2, '2', 3, 0, null, true),
  auth_type: fc.constantFrom<unknown>('token', 'approle', 'bogus', 'userpass', 'kubernetes'),
  role_id: fc.constantFrom('r-1', ''),
  secret_id: fc.constant('s-1'),
  username: fc.constant('u'),
  kubernetes_role: fc.constant('k'),
  namespace: fc.constantFrom('team-a', ''),
  verify: fc.constantFrom<unknown>(true, false, '/etc/ca.pem'),
  proxies: fc.constant({ http: 'http://proxy:3128', https: 'http://proxy:3128' }),
  timeout: fc.constantFrom<unknown>(5, 2.5),
  not_a_kwarg: fc.constant('x'),
};

const kwargsObject = fc.record(kwargValues, { requiredKeys: [] });

/** The kwargs as text: the JSON of the object, or something Airflow drops or keeps differently. */
const kwargsText = fc.oneof(
  { weight: 6, arbitrary: kwargsObject.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: kwargsObject.map((o) => JSON.stringify(o, null, 1)) },
  { weight: 1, arbitrary: kwargsObject.map((o) => JSON.stringify(o).slice(0, -1)) },
  { weight: 1, arbitrary: fc.constantFrom('[1]', '"x"', '5', 'null', '[]', '{}', '{url: "x", token: None}') },
);

/** A value as a .env line spells it for bash. */
function envLine(name: string, value: string, style: 'single' | 'double' | 'bare' | 'export'): string {
  const single = `'${value.replace(/'/g, `'\\''`)}'`;
  const double = `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
  const bare = value.replace(/[^A-Za-z0-9_./:,@%+=-]/g, (c) => `\\${c}`);
  if (style === 'double') return `${name}=${double}`;
  if (style === 'bare') return `${name}=${bare}`;
  if (style === 'export') return `export ${name}=${single}`;
  return `${name}=${single}`;
}

const quoting = fc.constantFrom<'single' | 'double' | 'bare' | 'export'>('single', 'double', 'bare', 'export');

/** `%` in airflow.cfg: written as configparser wants it (%%), or raw (an error when it is not a %(x)s). */
const cfgValue = (text: string, escaped: boolean, multiline: boolean) => {
  let v = escaped ? text.replace(/%/g, '%%') : text;
  if (multiline) v = v.replace(/,\s*/g, ',\n    ');
  return v;
};

type Where = 'shell' | 'env-file';

/** true about once in `n`. */
const oneIn = (n: number) => fc.integer({ min: 0, max: n - 1 }).map((x) => x === 0);

export const setUpArb: fc.Arbitrary<SetUp> = fc
  .record({
    classWhere: fc.constantFrom<'shell' | 'env-file' | 'cfg' | 'none'>('env-file', 'env-file', 'shell', 'cfg', 'none'),
    classValue: fc.constantFrom(
      PROVIDER,
      PROVIDER,
      '${CSS_MOD}.VaultBackend',
      '',
      'airflow.contrib.secrets.hashicorp_vault.VaultBackend',
    ),
    kwWhere: fc.constantFrom<
      'none' | 'env-file' | 'shell' | 'env-cmd' | 'env-file-subst' | 'cfg' | 'cfg-cmd' | 'cfg-empty-cmd' | 'env-and-cfg'
    >(
      'env-file',
      'env-file',
      'shell',
      'env-cmd',
      'env-file-subst',
      'cfg',
      'cfg-cmd',
      'cfg-empty-cmd',
      'env-and-cfg',
      'none',
    ),
    kw: kwargsText,
    kw2: kwargsText,
    quote: quoting,
    crlf: oneIn(6),
    cfgEscape: oneIn(5).map((b) => !b),
    cfgMultiline: oneIn(4),
    cfgViaAirflowConfig: oneIn(5),
    perKey: fc.subarray(
      [
        ['URL', 'http://per-key:8200'],
        ['KV_ENGINE_VERSION', '1'],
        ['MOUNT_POINT', 'kv'],
        ['CONNECTIONS_PATH', 'pk'],
        ['url', 'http://lower:1'],
        ['TOKEN', '$HOME'],
      ] as const,
      { maxLength: 3 },
    ),
    perKeyWhere: fc.constantFrom<Where>('shell', 'env-file'),
    workers: fc.constantFrom<'none' | 'class' | 'class-and-kwargs' | 'empty-class' | 'per-key'>(
      'none',
      'none',
      'class',
      'class-and-kwargs',
      'empty-class',
      'per-key',
    ),
    vaultToken: fc.boolean(),
    vaultAddr: fc.boolean(),
  })
  .map((g) => {
    const s: SetUp = { name: 'generated', shell: {}, files: {} };
    const lines: string[] = [];
    const cfg: Record<string, string[]> = { secrets: [], workers: [] };
    const put = (where: Where, name: string, value: string) => {
      if (where === 'shell') s.shell[name] = value;
      else lines.push(envLine(name, value, g.quote));
    };
    if (g.classWhere === 'cfg') cfg.secrets?.push(`backend = ${g.classValue}`);
    else if (g.classWhere !== 'none') put(g.classWhere, 'AIRFLOW__SECRETS__BACKEND', g.classValue);
    const files = s.files as Record<string, string>;
    switch (g.kwWhere) {
      case 'env-file':
      case 'shell':
        put(g.kwWhere, 'AIRFLOW__SECRETS__BACKEND_KWARGS', g.kw);
        break;
      case 'env-file-subst':
        files['kwargs.json'] = g.kw;
        lines.push('AIRFLOW__SECRETS__BACKEND_KWARGS="$(cat kwargs.json)"');
        break;
      case 'env-cmd':
        files['kwargs.json'] = g.kw;
        put('env-file', 'AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', 'cat kwargs.json');
        break;
      case 'cfg':
        cfg.secrets?.push(`backend_kwargs = ${cfgValue(g.kw, g.cfgEscape, g.cfgMultiline)}`);
        break;
      case 'cfg-cmd':
      case 'cfg-empty-cmd':
        files['kwargs.json'] = g.kw;
        if (g.kwWhere === 'cfg-empty-cmd') cfg.secrets?.push('backend_kwargs =');
        cfg.secrets?.push(`backend_kwargs_cmd = cat ${'kwargs.json'}`);
        break;
      case 'env-and-cfg':
        put('env-file', 'AIRFLOW__SECRETS__BACKEND_KWARGS', g.kw);
        cfg.secrets?.push(`backend_kwargs = ${cfgValue(g.kw2, true, false)}`);
        break;
    }
    for (const [k, v] of g.perKey) put(g.perKeyWhere, `AIRFLOW__SECRETS__BACKEND_KWARG__${k}`, v);
    if (g.workers === 'class' || g.workers === 'class-and-kwargs')
      put('env-file', 'AIRFLOW__WORKERS__SECRETS_BACKEND', PROVIDER);
    if (g.workers === 'empty-class') put('env-file', 'AIRFLOW__WORKERS__SECRETS_BACKEND', '');
    if (g.workers === 'class-and-kwargs') cfg.workers?.push(`secrets_backend_kwargs = ${cfgValue(g.kw2, true, false)}`);
    if (g.workers === 'per-key') put('shell', 'AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__URL', 'http://worker:1');
    if (g.vaultToken) s.shell.VAULT_TOKEN = 'hvs.from-shell';
    if (g.vaultAddr) put('env-file', 'VAULT_ADDR', 'http://addr-from-env:8200');
    if (lines.length) s.envFile = { lines, crlf: g.crlf };
    const sections = Object.entries(cfg).filter(([, l]) => l.length);
    if (sections.length) {
      s.cfg = sections.map(([name, l]) => `[${name}]\n${l.join('\n')}\n`).join('\n');
      if (g.cfgViaAirflowConfig) {
        s.cfgPath = 'home/cfg/airflow.cfg';
        s.shell.AIRFLOW_CONFIG = '~/cfg/airflow.cfg';
      }
    }
    return s;
  });
