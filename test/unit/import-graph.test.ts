/**
 * The shape of src/: no import circles (type-only imports count: they tie modules together just
 * the same), and arrows only down the layers of the design (design.md "Architecture"): cli ->
 * commands -> steps | doctor checks -> sandbox model, backend settings, auth registry -> vault,
 * airflow -> io, process, errors. Steps and doctor never import each other: what both need lives
 * a layer down. A new module goes into one of the layers below, or this test names it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/env.js';

const SRC = join(ROOT, 'src');

/** Top to bottom. A file belongs to the layer of its longest matching prefix (a dir ends in '/'). */
const LAYERS: { name: string; prefixes: string[]; apart?: string[] }[] = [
  { name: 'cli', prefixes: ['cli.ts', 'main.ts', 'help.ts'] },
  { name: 'commands', prefixes: ['commands/', 'ui/tasks.ts', 'ui/wizard.ts'] },
  { name: 'steps | doctor checks', prefixes: ['steps/', 'doctor/'], apart: ['steps/', 'doctor/'] },
  {
    name: 'sandbox model, backend settings, auth registry',
    prefixes: [
      'sandbox/',
      'airflow/backend/',
      'vault/auth/',
      'settings.ts',
      'settings/',
      'target/',
      'imports/',
      'config.ts',
      'config-values.ts',
      'validate/',
    ],
  },
  { name: 'vault, airflow', prefixes: ['vault/', 'airflow/', 'lock.ts'] },
  {
    name: 'io, process, errors',
    prefixes: ['io/', 'ui/', 'errors.ts', 'process.ts', 'process-table.ts', 'progress.ts', 'package-root.ts'],
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module a file names: import, export ... from, import(), and `import('x').T` in types. */
function specifiers(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier)
    )
      out.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a && ts.isStringLiteral(a)) out.push(a.text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal))
      out.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out.filter((s) => s.startsWith('.'));
}

/** The graph of src/, as paths relative to src/. */
function importGraph(): Map<string, string[]> {
  const files = new Set(sourceFiles(SRC).map((f) => relative(SRC, f)));
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets = specifiers(join(SRC, f)).map((s) => {
      const t = relative(SRC, resolve(dirname(join(SRC, f)), s)).replace(/\.js$/, '.ts');
      return files.has(t) ? t : join(t.replace(/\.ts$/, ''), 'index.ts');
    });
    graph.set(f, [...new Set(targets)]);
  }
  return graph;
}

function layerOf(file: string): { index: number; prefix: string } | undefined {
  let best: { index: number; prefix: string } | undefined;
  LAYERS.forEach((l, index) => {
    for (const p of l.prefixes)
      if ((file === p || (p.endsWith('/') && file.startsWith(p))) && p.length > (best?.prefix.length ?? -1))
        best = { index, prefix: p };
  });
  return best;
}

/** The import circles: each strongly connected component of more than one module, or a module importing itself. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('is read whole: every kind of import is an edge (a check on the walker itself)', () => {
    expect(graph.get('commands/create.ts')).toContain('steps/seed.ts');
    expect(graph.get('steps/context.ts')).toContain('vault/api.ts'); // `import type`
    expect(graph.get('settings.ts')).toContain('airflow/spec.ts'); // `export type ... from`
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it('has no import circles', () => {
    expect(circles(graph)).toEqual([]);
    // The finder finds one where there is one.
    expect(
      circles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
  });

  it('places every module in a layer', () => {
    expect([...graph.keys()].filter((f) => !layerOf(f))).toEqual([]);
  });

  it('has arrows only down the layers; steps and doctor never import each other', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      const a = layerOf(from);
      for (const to of targets) {
        const b = layerOf(to);
        if (!a || !b) continue;
        if (b.index < a.index)
          wrong.push(`${from} -> ${to} (up: ${LAYERS[a.index]?.name} -> ${LAYERS[b.index]?.name})`);
        const apart = LAYERS[a.index]?.apart;
        if (a.index === b.index && apart && a.prefix !== b.prefix)
          wrong.push(
            `${from} -> ${to} (sideways between ${a.prefix} and ${b.prefix}: move what both need a layer down)`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });
});
