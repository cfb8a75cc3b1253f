/**
 * Our TypeScript URI parser against real Airflow's Connection, field by field: every shared vector
 * plus generated URIs (random printable logins and passwords, percent escapes, IPv6 hosts, query
 * extras, ports), on Airflow 3 and 2.11 from the project's venvs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConnectionUri, quote, type AirflowConnection } from '../../src/airflow/connection.js';
import { missing, ROOT } from '../support/env.js';
import { runProcess } from '../support/sandbox.js';

const VENVS = {
  '3': join(ROOT, '.venvs', 'airflow3', 'bin', 'python'),
  '2': join(ROOT, '.venvs', 'airflow2', 'bin', 'python'),
} as const;
const SCRIPT = join(ROOT, 'test', 'support', 'airflow_parse.py');
const GENERATED = 240;

function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic URIs that walk the corners of Airflow's parsing. */
export function generateUris(n: number, seed = 20261126): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const printable = () =>
    Array.from({ length: Math.floor(r() * 10) }, () => String.fromCharCode(33 + Math.floor(r() * 94))).join('');
  const secret = () =>
    pick([
      () => quote(printable()),
      () => quote(printable() + pick(['ä', 'é', '日本', '🔑'])),
      () => printable().replace(/[/?#[\]%]/g, ''), // raw, but without what ends or breaks userinfo
      () => `${printable().replace(/[/?#[\]%@:]/g, '')}@${printable().replace(/[/?#[\]%@]/g, '')}`, // raw @ in a password
      () => 'p%zz' + quote(printable()), // an invalid escape stays
      () => 'a+b',
      () => '',
    ])();
  const host = () =>
    pick([
      () => pick(['db.example.com', 'HOST.Example.COM', 'localhost', 'relay-1.internal', '10.0.0.5']),
      () => pick(['[::1]', '[2001:db8::1]', '[fe80::1%25eth0]', '[::ffff:192.168.0.1]']),
      () => '',
      () => quote('/data/dir'), // the netloc fallback
    ])();
  const query = () =>
    Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const k = pick(['a', 'key_path', 'region_name', 'sslmode', 'x y', 'c']);
      const v = pick([
        '1',
        '1.50',
        '1e16',
        'true',
        'null',
        '',
        quote('{"ca": "/ca.pem"}'),
        quote('[1, 2]'),
        'last',
        'a+b',
        quote(printable()),
        '-0',
        '12345678901234567890',
      ]);
      return `${quote(k)}=${v}`;
    }).join('&');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const scheme = pick([
      'postgres',
      'postgresql',
      'mysql',
      'http',
      'smtps',
      'google-cloud-platform',
      'aws',
      'SSH',
      'postgresql+psycopg2',
    ]);
    const login = r() < 0.8 ? secret() : null;
    const password = login !== null && r() < 0.8 ? secret() : null;
    const userinfo = login === null ? '' : password === null ? `${login}@` : `${login}:${password}@`;
    const port = pick(['', '', `:${Math.floor(r() * 65536)}`, ':5432', ':0', ':99999', ':abc']);
    const path = pick(['', '', '/db', '/' + quote('my/db'), '/a/b', '/']);
    const q = r() < 0.45 ? `?${r() < 0.1 ? `__extra__=${quote('{"a": 1}')}` : query()}` : '';
    out.push(`${scheme}://${userinfo}${host()}${port}${path}${q}`);
  }
  return out;
}

type AirflowAnswer = { fields: AirflowConnection } | { error: string };

async function airflowParse(python: string, uris: string[]): Promise<AirflowAnswer[]> {
  const r = await runProcess(python, [SCRIPT], {
    input: JSON.stringify(uris),
    env: { ...process.env, AIRFLOW_HOME: join(ROOT, '.venvs', '.airflow-home') },
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AirflowAnswer[];
}

const vectors = (
  JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'airflow-conn-uris.json'), 'utf8')) as {
    vectors: { uri: string }[];
  }
).vectors;

for (const major of ['3', '2'] as const) {
  const skipReason = missing(`Airflow ${major} venv`, VENVS[major]);
  describe.skipIf(skipReason)(`URI parsing: TypeScript and real Airflow ${major} agree`, () => {
    it(`on every shared vector and ${GENERATED} generated URIs`, async () => {
      const uris = [...vectors.map((v) => v.uri), ...generateUris(GENERATED)];
      const answers = await airflowParse(VENVS[major], uris);
      expect(answers).toHaveLength(uris.length);
      const disagreements: string[] = [];
      let rejected = 0;
      uris.forEach((uri, i) => {
        const a = answers[i]!;
        let ours: AirflowConnection | { error: string };
        try {
          ours = parseConnectionUri(uri, major);
        } catch (e) {
          ours = { error: (e as Error).message };
        }
        if ('error' in a) {
          rejected++;
          if (!('error' in ours)) disagreements.push(`${uri}: Airflow rejects it (${a.error}), we accept it`);
        } else if ('error' in ours) {
          disagreements.push(`${uri}: we reject it (${ours.error}), Airflow accepts it`);
        } else {
          for (const f of ['conn_type', 'host', 'port', 'login', 'password', 'schema', 'extra'] as const) {
            if (ours[f] !== a.fields[f])
              disagreements.push(`${uri}: ${f} ours=${JSON.stringify(ours[f])} airflow=${JSON.stringify(a.fields[f])}`);
          }
        }
      });
      expect(disagreements).toEqual([]);
      // The generator must reach both sides of the line.
      expect(rejected).toBeGreaterThan(5);
      expect(uris.length - rejected).toBeGreaterThan(150);
    });
  });
}
