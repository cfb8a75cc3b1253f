import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  connIdProblem,
  connUriProblem,
  describeConnection,
  parseConnectionUri,
  unquote,
} from '../../src/airflow/connection.js';
import { ROOT } from '../support/env.js';

interface Vector {
  uri: string;
  error?: boolean;
  conn_type?: string;
  host?: string;
  port?: number | null;
  login?: string | null;
  password?: string | null;
  schema?: string;
  extra?: string | null;
  extra_airflow2?: string | null;
  notes?: string;
}

// The project's copy of ../shared/vectors, corrected where real Airflow disagrees (test/e2e/uri-differential.airflow.test.ts).
const vectors = (
  JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'airflow-conn-uris.json'), 'utf8')) as { vectors: Vector[] }
).vectors;

describe("Airflow's URI rules", () => {
  it('has the shared vectors to check', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(40);
  });

  for (const rules of ['3', '2'] as const) {
    for (const v of vectors) {
      it(`parses ${v.uri} as Airflow ${rules} does${v.error ? ' (rejected)' : ''}`, () => {
        if (v.error) {
          expect(() => parseConnectionUri(v.uri, rules)).toThrow();
          return;
        }
        expect(parseConnectionUri(v.uri, rules)).toEqual({
          conn_type: v.conn_type,
          host: v.host,
          port: v.port,
          login: v.login,
          password: v.password,
          schema: v.schema,
          extra: rules === '2' && v.extra_airflow2 !== undefined ? v.extra_airflow2 : v.extra,
        });
      });
    }
  }

  it('decodes percent escapes as UTF-8 bytes and keeps invalid ones', () => {
    expect(unquote('p%C3%A4ss')).toBe('päss');
    expect(unquote('p%zz')).toBe('p%zz');
    expect(unquote('%E2%82')).toBe('\uFFFD');
    expect(unquote('ü%20x')).toBe('ü x');
  });

  it('writes non-ASCII query extras the way json.dumps does (ensure_ascii)', () => {
    expect(parseConnectionUri('http://h/?name=J%C3%BCrgen&q=%22', '2').extra).toBe(
      '{"name": "J\\u00fcrgen", "q": "\\""}',
    );
  });

  it('round-trips query values through Python json on Airflow 3: big ints, float spelling, NaN, bad JSON kept', () => {
    const extra = parseConnectionUri(
      'http://h/?i=12345678901234567890&f=1e16&g=1.50&n=NaN&t=true&s=%22x%22&bad=%7Bx&z=-0&u=%22%5Cu00e9%22',
    ).extra;
    expect(extra).toBe(
      '{"i": 12345678901234567890, "f": 1e+16, "g": 1.5, "n": NaN, "t": true, "s": "x", "bad": "{x", "z": 0, "u": "\\u00e9"}',
    );
  });

  it('logs a fetched connection like Airflow, password masked', () => {
    const line = describeConnection('smtp_default', parseConnectionUri('smtps://user:host@relay.example.com:465'));
    expect(line).toBe(
      'id: smtp_default. Host: relay.example.com, Port: 465, Schema: , Login: user, Password: ***, extra: None',
    );
  });
});

describe('what the sandbox accepts', () => {
  it.each([
    ['', 'is empty'],
    ['a/b', 'may hold only'],
    ['..', 'path step'],
    ['with space', 'may hold only'],
    ['x'.repeat(251), '251 characters'],
  ])('refuses connection id %j', (id, why) => {
    expect(connIdProblem(id)).toContain(why);
  });

  it.each(['smtp_default', 'my-pg.prod', 'A1'])('accepts connection id %j', (id) => {
    expect(connIdProblem(id)).toBeNull();
  });

  it.each([
    ['mysql://user:pa/ss@host:3306/db', 'part of the password as the port'],
    ['http://host:abc', "Port could not be cast to integer value as 'abc'"],
    ['http://host:99999', 'Port out of range'],
    ['my_type://host', "has a type 'my_type' holding '_'"],
    ['no-scheme-here', "no '<type>://'"],
    ['http://h/?__extra__=%5B1%5D', 'JSON object'],
    ['postgres://u:p@[::zz]/db', 'IPv6'],
  ])('refuses URI %j', (uri, why) => {
    expect(connUriProblem(uri)).toContain(why);
  });
});
