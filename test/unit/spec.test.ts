/**
 * The connection model: a URI or Airflow's JSON form, the Vault secret each becomes per storage
 * format, and the losses reported when a format cannot keep a field. Real Airflow is the judge of
 * the whole round trip in test/e2e/import-fidelity.airflow.test.ts; here the cheap cases.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  connectionSecret,
  connectionValueProblem,
  jsonForm,
  exactFromFields,
  parseConnectionEntry,
  renderConnectionEntry,
  storageLosses,
} from '../../src/airflow/spec.js';
import { importAll } from '../../src/imports/index.js';
import { mergeEntries } from '../../src/settings/merge.js';

const exported = {
  conn_type: 'postgres',
  description: 'the main db',
  host: 'db.example.com',
  login: null,
  password: '',
  schema: null,
  port: 5432,
  extra: '{"sslmode": "require", "timeout": 30}',
};

describe('connection values', () => {
  const value = jsonForm(exactFromFields(exported));

  it('fields format keeps description, None versus empty, and the extra text exactly', () => {
    expect(connectionSecret(value, 'fields')).toEqual({
      conn_type: 'postgres',
      description: 'the main db',
      host: 'db.example.com',
      password: '',
      port: 5432,
      extra: '{"sslmode": "require", "timeout": 30}',
    });
    expect(storageLosses(value, 'fields')).toEqual([]);
  });

  it('uri format reports what it cannot keep, field by field', () => {
    const secret = connectionSecret(value, 'uri');
    expect(Object.keys(secret)).toEqual(['conn_uri']);
    // 30 must stay a number: the extra goes whole as __extra__ JSON instead of query values.
    expect(String(secret.conn_uri)).toContain('__extra__=');
    const losses = storageLosses(value, 'uri');
    expect(losses).toContain(
      'description is dropped: with --format uri VaultBackend reads only conn_uri (use --format fields to keep it)',
    );
    expect(losses).toContain('password empty becomes none');
    expect(losses.some((l) => l.startsWith('extra'))).toBe(false);
  });

  it('refuses a JSON form without conn_type or with a bad port, and accepts a URI as before', () => {
    expect(connectionValueProblem('{"host": "x"}')).toBe('has no conn_type');
    expect(connectionValueProblem('{"conn_type": "http", "port": "eighty"}')).toMatch(/not a port number/);
    expect(connectionValueProblem('{"conn_type": "http", "extra": "{not json"}')).toMatch(/extra/);
    expect(connectionValueProblem('http://h:80')).toBeNull();
  });

  it('config entries: a mapping becomes the JSON form and renders back as the same mapping', () => {
    const v = parseConnectionEntry({ conn_type: 'http', description: 'api', login: '' });
    expect(renderConnectionEntry(v)).toEqual({ conn_type: 'http', description: 'api', login: '' });
    expect(renderConnectionEntry('http://h')).toBe('http://h');
  });
});

describe('import merge', () => {
  it('parses and merges 100,000 connections in under 5 s (linear, not quadratic)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-big-'));
    const conns: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) conns[`c_${i}`] = { conn_type: 'http', host: `h${i}`, password: `p${i}` }; // small: the file stays under the 10 MB cap
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, JSON.stringify(conns));
    // The second file overrides the first half: every id is looked up against 100,000 others.
    writeFileSync(b, JSON.stringify(Object.fromEntries(Object.entries(conns).slice(0, 50_000))));
    // CPU time of this process, not wall time: the suite shares two cores with other work, and
    // the quadratic merge this guards against cost 61 s of CPU at this size.
    const t0 = process.cpuUsage();
    const got = await importAll([a, b], { rules: '3', format: 'fields' });
    const merged = mergeEntries(
      [],
      got.connections.map((c) => [c.id, c.uri] as const),
      [['c_1', 'http://flag']],
    );
    const used = process.cpuUsage(t0);
    const ms = (used.user + used.system) / 1000;
    expect(got.connections).toHaveLength(100_000);
    expect(merged).toHaveLength(100_000);
    expect(got.notes.filter((n) => n.action === 'replaced')).toHaveLength(50_000);
    expect(ms, `${Math.round(ms)} ms`).toBeLessThan(5_000);
  }, 60_000);
});
