/**
 * The hint for a malformed connection URI says what is malformed, held to Python's own urlsplit
 * (Airflow's conn_type is its scheme): generated URIs around the scheme, one batch through python3.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connUriProblem, schemeProblem } from '../../src/airflow/connection.js';
import { validateConnection } from '../../src/settings.js';

const head = fc.string({ unit: fc.constantFrom(...'ab1_-+. /:'.split('')), maxLength: 8 });
const joint = fc.constantFrom('://', '//', ':/', ':', '', ':///');
const uris = fc.sample(
  fc.tuple(head, joint).map(([h, j]) => `${h}${j}u:p@h:5432/db`),
  { numRuns: 600, seed: 20261207 },
);

/** Python's verdict for each: the scheme urlsplit reads ('' when none). */
function pythonSchemes(list: string[]): string[] {
  const code =
    'import json,sys,urllib.parse as u; print(json.dumps([u.urlsplit(x).scheme for x in json.load(sys.stdin)]))';
  return JSON.parse(execFileSync('python3', ['-c', code], { input: JSON.stringify(list), encoding: 'utf8' }));
}

describe('what a malformed URI scheme is, said', () => {
  it("finds a scheme problem exactly where Python's urlsplit (Airflow's parser) reads no scheme", () => {
    const schemes = pythonSchemes(uris);
    uris.forEach((u, i) => {
      const noType = !u.includes('://') || schemes[i] === '';
      expect(schemeProblem(u) !== null, `${u} (python scheme '${schemes[i]}')`).toBe(noType);
      const said = schemeProblem(u) ?? '';
      const before = u.slice(0, Math.max(0, u.indexOf(':')));
      // A character named as the culprit is one the text before the first ':' really holds.
      for (const m of said.matchAll(/holding '(.)'/g)) expect(before, `${u}: ${said}`).toContain(m[1]);
    });
  });

  it("postgres//u:p@... is named as a missing ':' (it holds no '_'), on --conn too", () => {
    const p = connUriProblem('postgres//u:p@db:5432/x') ?? '';
    expect(p).toBe("starts with 'postgres//' where 'postgres://' belongs");
    expect(p).not.toContain("'_'");
    expect(() => validateConnection({ id: 'my_pg', uri: 'postgres//u:p@db:5432/x' }, '--conn')).toThrow(
      /^--conn: the URI for 'my_pg' starts with 'postgres\/\/' where 'postgres:\/\/' belongs$/,
    );
  });

  it("names the '_' only where the type holds one, with the fix", () => {
    expect(connUriProblem('my_pg://u:p@db')).toContain(
      "has a type 'my_pg' holding '_', which a URI scheme cannot hold: write '-' instead",
    );
    expect(connUriProblem('1pg://u@h')).toContain("starts with '1': a URI scheme starts with a letter");
    expect(connUriProblem('://u@h')).toContain("nothing before '://'");
  });
});
