/**
 * The writer and the reader of the backend settings agree: what renderShellEnv writes, bash sources
 * and readBackendSettings reads back as exactly the kwargs and class the writer meant, for generated
 * tokens, paths and targets (quotes, backslashes, `$`, backticks, spaces). Real Airflow reading the
 * same files is test/e2e/backend-settings.airflow.test.ts ("the .env the writer writes").
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  airflowFeatures,
  backendKwargs,
  dotenvQuote,
  envEntries,
  expandVars,
  readBackendWithEnvFile,
  renderDockerEnv,
  renderShellEnv,
  shlexSplit,
  type EnvInput,
} from '../../src/airflow/backend/index.js';
import { getOption, parseIni } from '../../src/airflow/backend/ini.js';

const dir = mkdtempSync(join(tmpdir(), 'css-writer-'));
const text = fc.string({ unit: fc.constantFrom(...'ab/:._-@ $`\'"\\%#{}'.split('')), minLength: 1, maxLength: 12 });

const input = fc.record({
  airflowVersion: fc.constantFrom<'2' | '3'>('2', '3'),
  flavour: fc.constantFrom<'Vault' | 'OpenBao'>('Vault', 'OpenBao'),
  url: fc.constantFrom('http://127.0.0.1:8200', 'https://[::1]:8201'),
  token: text,
  mount: fc.constantFrom('secret', 'kv/airflow'),
  connectionsPath: fc.constantFrom('connections', 'airflow/conns', ''),
  variablesPath: fc.constantFrom('variables', 'vars'),
  kvVersion: fc.constantFrom<1 | 2>(1, 2),
  caFile: fc.option(fc.constantFrom('/etc/ca.pem', '/tmp/my ca.pem'), { nil: undefined }),
  namespace: fc.option(fc.constantFrom('team-a', 'a/b'), { nil: undefined }),
  approle: fc.boolean(),
});

describe('what the writer writes, the reader reads back', () => {
  let n = 0;
  test.prop([input], { numRuns: 40, seed: 20261207 })('kwargs, class and the vault env, through bash', async (g) => {
    const e: EnvInput = {
      ...g,
      ...(g.approle ? { auth: { auth_type: 'approle', role_id: 'r-1', secret_id: g.token } } : {}),
    };
    let rendered: string;
    try {
      rendered = renderShellEnv(e);
    } catch {
      // The writer refuses (exit 2) a value no quoting reads alike in bash, compose and dotenv.
      expect(envEntries(e).some(([, v]) => dotenvQuote(v) === null)).toBe(true);
      return;
    }
    const file = join(dir, `env-${n++}`);
    writeFileSync(file, rendered);
    const { user, read } = await readBackendWithEnvFile(file, {
      version: g.airflowVersion,
      base: { PATH: process.env.PATH, HOME: dir, AIRFLOW_HOME: join(dir, 'no-airflow') },
    });
    expect(read.problems).toEqual([]);
    expect(read.settings.classPath).toBe(airflowFeatures(g.airflowVersion).classPath);
    expect(read.kwargs).toEqual(backendKwargs(g.airflowVersion, e));
    expect(read.typeProblems).toEqual([]);
    for (const [k, v] of envEntries(e)) expect(user.env.get(k), k).toBe(v);
    expect(read.kwargsSource).toMatchObject({ kind: 'env', origin: 'env-file', file });
  });
});

describe('the env files say what they are for', () => {
  const base: EnvInput = {
    airflowVersion: '3',
    flavour: 'OpenBao',
    url: 'http://127.0.0.1:8200',
    token: 'root',
    mount: 'secret',
    connectionsPath: 'connections',
    variablesPath: 'variables',
    kvVersion: 2,
  };
  it("keeps Airflow's example DAGs out, in both files, and says so in the header", () => {
    for (const text of [renderShellEnv(base), renderDockerEnv(base)]) {
      expect(text).toMatch(/^AIRFLOW__CORE__LOAD_EXAMPLES='?False'?$/m);
      expect(text).toMatch(/^# AIRFLOW__CORE__LOAD_EXAMPLES=False keeps Airflow's own example DAGs out/m);
    }
  });
  it("names the server with the right article ('an OpenBao dev server'), and an existing one by its address", () => {
    expect(renderShellEnv(base)).toContain('for Airflow 3 and an OpenBao dev server.');
    expect(renderShellEnv({ ...base, flavour: 'Vault' })).toContain('for Airflow 3 and a Vault dev server.');
    expect(renderShellEnv({ ...base, flavour: 'Vault', existing: true, url: 'https://vault.example:8200' })).toContain(
      'for Airflow 3 and the Vault at https://vault.example:8200.',
    );
  });
});

describe("Python's rules, ported", () => {
  it('expandvars: $NAME and ${NAME} when set, the rest as written', () => {
    const env = new Map([
      ['A', 'x'],
      ['B_1', '$A'],
    ]);
    expect(expandVars('$A-${A}-$NOPE-${}-$', env)).toBe('x-x-$NOPE-${}-$');
    expect(expandVars('$B_1', env)).toBe('$A');
  });

  it('shlex.split (posix): quotes, escapes, empty quoted words, and its errors', () => {
    expect(shlexSplit(`cat 'a b' "c\\"d" e\\ f '' "x\\y"`)).toEqual(['cat', 'a b', 'c"d', 'e f', '', 'x\\y']);
    expect(() => shlexSplit(`echo 'open`)).toThrow('No closing quotation');
    expect(() => shlexSplit('echo \\')).toThrow('No escaped character');
  });

  it('configparser: continuation lines, kept blank lines, comments inside a value, %% and [DEFAULT]', () => {
    const ini = parseIni('[DEFAULT]\nd = 1%%\n[secrets]\nk = {\n  "a": 1,\n\n  # c\n  "b": 2}\nref = %(d)s!\n');
    expect(getOption(ini, 'secrets', 'k')).toBe('{\n"a": 1,\n\n"b": 2}');
    expect(getOption(ini, 'secrets', 'ref')).toBe('1%!');
    expect(getOption(ini, 'secrets', 'd')).toBe('1%');
    expect(() => getOption(parseIni('[s]\nk = 5%\n'), 's', 'k')).toThrow(/must be followed/);
  });
});
