/**
 * Parse errors name file, line and column and the kind of mistake, never the text around it
 * (src/io/parse.ts). The JSON locator is held to JSON.parse itself on generated near-JSON: it finds
 * an error exactly when JSON.parse throws, at the position JSON.parse names when it names one.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { jsonSyntaxError, lineCol, parseJson, parseYamlDocument, yamlToData } from '../../src/io/parse.js';

const JSONISH = fc.constantFrom(...'{}[]",:-+.0123456789eEtruefalsn \n\t\\/u"ab\u0001'.split(''));

/** Valid JSON with one random edit: an insert, a deletion or a replacement. */
const nearJson = fc
  .tuple(fc.json(), fc.nat(), fc.nat(), JSONISH, fc.constantFrom('insert', 'delete', 'replace'))
  .map(([t, a, b, ch, how]) => {
    const at = t.length ? a % t.length : 0;
    if (how === 'insert') return t.slice(0, at) + ch + t.slice(at);
    if (how === 'delete') return t.slice(0, at) + t.slice(at + 1 + (b % 3));
    return t.slice(0, at) + ch + t.slice(at + 1);
  });

function v8Position(text: string): number | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    // Test oracle only: the position V8 names, when it names one (production never reads this message).
    const m = /at position (\d+)/.exec((e as Error).message);
    return m ? Number(m[1]) : -1;
  }
}

describe('the JSON locator', () => {
  test.prop(
    [
      fc.oneof(
        nearJson,
        fc.array(JSONISH, { maxLength: 30 }).map((a) => a.join('')),
        fc.json(),
      ),
    ],
    {
      numRuns: 3000,
    },
  )('finds an error exactly when JSON.parse does, where JSON.parse says', (text) => {
    const v8 = v8Position(text);
    const mine = jsonSyntaxError(text);
    expect(mine === null).toBe(v8 === null);
    if (mine && v8 !== null && v8 >= 0) expect(mine.offset).toBe(v8);
  });

  it('does not overflow on nesting JSON.parse accepts', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(jsonSyntaxError(deep)).toBeNull();
    expect(jsonSyntaxError(deep.slice(0, -1))?.reason).toBe('the text ends inside a list');
  });

  it('counts lines and columns from 1', () => {
    expect(lineCol('ab\ncd', 0)).toEqual({ line: 1, col: 1 });
    expect(lineCol('ab\ncd', 4)).toEqual({ line: 2, col: 2 });
  });
});

describe('a malformed file is named with line and column, never quoted', () => {
  const SECRET = 'hunter2-Sup3rSecret';
  it.each([
    [`{"pg": {"password": ${SECRET}}}`, 1, 21, 'a value cannot start here'],
    [`{"pg": {"password": "${SECRET}"}\n  "x": 1}`, 2, 3, "expected ',' or '}' in a mapping"],
    [`{"pg": {"password": "${SECRET}\n"}}`, 1, 41, 'a control character'],
    [`{"pg": {"password": "${SECRET}\\q"}}`, 1, 42, 'an invalid escape'],
    [`{"pg": {"password": '${SECRET}'}}`, 1, 21, 'a value cannot start here'],
  ])('JSON %#', (text, line, col, reason) => {
    let message = '';
    try {
      parseJson(text, 'conns.json', 'fix it');
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      message = (e as Error).message;
    }
    expect(message).toContain(`conns.json:${line}:${col}: not valid JSON (${reason}`);
    for (let k = 4; k <= SECRET.length; k++) expect(message).not.toContain(SECRET.slice(0, k));
    expect(message).not.toMatch(/hunt|Sup3r/);
  });

  it.each([
    [`connections:\n  pg: "postgres://u:${SECRET}@h\n`, 'a missing character'],
    [`connections:\n  pg: postgres://u:${SECRET}@h\n    x: "${SECRET}"\n`, 'a block used as a key'],
    [`connections: {pg: "a"\n  b: ${SECRET}`, ''],
    [`connections:\n  pg: "\\q${SECRET}"\n`, 'an invalid escape'],
    [`a: 1\na: ${SECRET}\n`, 'a key given twice'],
    [`x: [${SECRET}\n`, ''],
    [`\tpw: ${SECRET}\n`, ''],
    [`a: *${SECRET}\n`, 'an alias'],
  ])('YAML %#', async (text, reason) => {
    let message = '';
    try {
      yamlToData(await parseYamlDocument(text, 'secrets-sandbox.yaml', 'fix the file'), 'secrets-sandbox.yaml', 'fix');
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^secrets-sandbox\.yaml:\d+:\d+: not valid YAML \(/);
    if (reason) expect(message).toMatch(new RegExp(reason));
    expect(message).not.toMatch(/hunt|Sup3r|postgres/);
  });
});
