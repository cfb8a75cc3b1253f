/**
 * Values exactly as written: a connection or variable in secrets-sandbox.yaml is text. Plain scalars
 * YAML would read as numbers, booleans or special floats keep the text the user typed; ids such as
 * `__proto__` and `constructor` are ordinary ids; whatever the tool writes into the config, it reads
 * back unchanged. Generated: the scalars from YAML 1.2's core-schema forms, the values and ids from
 * fast-check.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { editConfig, parseConfig } from '../../src/config.js';
import { UsageError } from '../../src/errors.js';

/** Plain scalars the YAML core schema resolves to something other than a string. */
const nonStringScalar = fc.oneof(
  fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.nat({ max: 99999 })).map(([z, n]) => `${'0'.repeat(z)}${n}`),
  fc.nat().map((n) => `0x${n.toString(16).toUpperCase()}`),
  fc.nat().map((n) => `0o${n.toString(8)}`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
  fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}0`),
  fc.tuple(fc.nat({ max: 99 }), fc.integer({ min: -30, max: 30 })).map(([a, e]) => `${a}e${e}`),
  fc.constantFrom('.inf', '-.inf', '+.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN'),
  fc.constantFrom('true', 'false', 'True', 'False', 'TRUE', 'FALSE'),
);

/** Ids Airflow accepts that a plain JS object would not keep as data. */
const PROTOTYPE_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

async function errorOf(text: string): Promise<string> {
  try {
    await parseConfig(text, 'sb.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('values exactly as written', () => {
  test.prop([nonStringScalar], { numRuns: 400 })(
    'a plain scalar YAML reads as a number or boolean stays its text',
    async (s) => {
      const c = await parseConfig(`variables:\n  v: ${s}\nconnections:\n  c: ${s}\n`, 'sb.yaml');
      expect(c.variables?.v).toBe(s);
      expect(c.connections?.c).toBe(s);
    },
  );

  test.prop([nonStringScalar.filter((s) => !s.startsWith('-') && !s.startsWith('+'))], { numRuns: 200 })(
    'an id YAML would read as a number or boolean stays its text',
    async (s) => {
      const c = await parseConfig(`variables:\n  ${s}: x\n`, 'sb.yaml');
      expect(Object.keys(c.variables ?? {})).toEqual([s]);
    },
  );

  it("issue 21's examples: 012345, 12345678901234567890, 0x1F, .inf are seeded as written", async () => {
    const c = await parseConfig(
      'variables:\n  a: 012345\n  b: 12345678901234567890\n  c: 0x1F\n  d: .inf\n  e: 1.10\n',
      'sb.yaml',
    );
    expect({ ...c.variables }).toEqual({ a: '012345', b: '12345678901234567890', c: '0x1F', d: '.inf', e: '1.10' });
  });

  it('ids like __proto__ and constructor are ordinary ids', async () => {
    const text = `connections:\n${PROTOTYPE_IDS.map((id) => `  ${id}: http://h:1\n`).join('')}variables:\n${PROTOTYPE_IDS.map((id) => `  ${id}: v\n`).join('')}`;
    const c = await parseConfig(text, 'sb.yaml');
    expect(Object.keys(c.connections ?? {})).toEqual(PROTOTYPE_IDS);
    expect(Object.keys(c.variables ?? {})).toEqual(PROTOTYPE_IDS);
    for (const id of PROTOTYPE_IDS) expect(c.variables?.[id]).toBe('v');
  });

  it('a text field of a connection mapping keeps its text; a port stays a number; extra keeps JSON numbers', async () => {
    const c = await parseConfig(
      'connections:\n  pg:\n    conn_type: postgres\n    password: 012345\n    login: true\n    port: 5432\n    extra: {a: 1, b: [1.5, true]}\n',
      'sb.yaml',
    );
    expect(JSON.parse(String(c.connections?.pg))).toEqual({
      conn_type: 'postgres',
      login: 'true',
      password: '012345',
      port: 5432,
      extra: '{"a": 1, "b": [1.5, true]}',
    });
  });

  it('what has no text form is refused with its line and what to write', async () => {
    expect(await errorOf('variables:\n  e: !!binary aGVsbG8=\n')).toMatch(
      /^sb\.yaml:2:\d+: variables\.e carries the YAML tag !!binary, which this tool does not read; write the value itself, as text$/,
    );
    expect(await errorOf('connections:\n  c:\n    conn_type: http\n    password: !!binary aGVsbG8=\n')).toMatch(
      /^sb\.yaml:4:\d+: connections\.c\.password carries the YAML tag !!binary/,
    );
    expect(await errorOf('variables:\n  e: ~\n')).toMatch(
      /^sb\.yaml:2:6: variables\.e has no value; write one \(or "" for an empty one\)$/,
    );
    expect(await errorOf('connections:\n  c:\n    conn_type: http\n    port: 0x1F\n')).toMatch(
      /^sb\.yaml:4:11: connections\.c\.port is '0x1F', which is not a port number/,
    );
    expect(await errorOf('connections:\n  c:\n    conn_type: http\n    extra: {a: 0x1F}\n')).toMatch(
      /^sb\.yaml:4:16: connections\.c\.extra\.a is 0x1F, a number JSON cannot hold as written; .*quote it/,
    );
    expect(await errorOf('variables:\n  !!binary x: 1\n')).toMatch(
      /^sb\.yaml:2:3: not valid YAML \(a key that is not a string\)/,
    );
  });

  const connId = fc.oneof(
    fc.constantFrom(...PROTOTYPE_IDS),
    fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/).filter((s) => s !== '.' && s !== '..'),
  );
  test.prop(
    [fc.uniqueArray(fc.tuple(connId, fc.string({ unit: 'grapheme' })), { selector: ([k]) => k, maxLength: 8 })],
    {
      numRuns: 200,
    },
  )('whatever the tool writes into the config, it reads back unchanged', async (vars) => {
    const text = await editConfig(
      null,
      vars.map(([k, v]) => ({ path: ['variables', k], value: v })),
    );
    const c = await parseConfig(text ?? '', 'sb.yaml');
    // Order aside (a JS object lists integer-like keys first), every pair comes back as written.
    const sorted = (e: [string, string][]) => [...e].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(sorted(Object.entries(c.variables ?? {}))).toEqual(sorted(vars));
  });
});
