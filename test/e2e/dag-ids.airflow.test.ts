/**
 * Issue 14 item 6: the example DAG has one task per connection whatever the ids, proven by real
 * Airflow's DagBag (3 and 2.11): ids differing only by '.', '-', '_' or case, and an id at
 * Airflow's 250-character limit, give no DuplicateTaskIdFound and no invalid task id.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, ROOT, scaled } from '../support/env.js';
import { runProcess } from '../support/sandbox.js';
import { renderDag } from '../../src/airflow/templates.js';

const IDS = ['my.db', 'my-db', 'my_db', 'MY_DB', 'a.b-c_d', 'a_b.c-d', 'x'.repeat(250), 'x'.repeat(249) + 'y'];

for (const major of ['3', '2'] as const) {
  const python = join(ROOT, '.venvs', `airflow${major}`, 'bin', 'python');
  it.skipIf(missing(`Airflow ${major} venv`, python))(
    `Airflow ${major} imports the DAG for ids that differ only by . - _ and case, one task each`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'css-dagids-'));
      const dags = join(root, 'dags');
      mkdirSync(dags);
      writeFileSync(
        join(dags, 'example_secrets_dag.py'),
        renderDag({ airflowVersion: major, connIds: IDS, envFile: '/tmp/o\'brien "x"/.env' }),
      );
      const r = await runProcess(python, [join(ROOT, 'test', 'support', 'dagbag.py'), dags, join(root, 'out.json')], {
        env: {
          PATH: process.env.PATH,
          HOME: root,
          AIRFLOW_HOME: join(root, 'airflow-home'),
          AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
        },
        timeoutMs: scaled(180_000),
      });
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const got = JSON.parse(readFileSync(join(root, 'out.json'), 'utf8')) as {
        errors: Record<string, string>;
        tasks: Record<string, string[]>;
      };
      expect(got.errors).toEqual({});
      const tasks = got.tasks.example_secrets_dag!;
      expect(tasks).toHaveLength(IDS.length);
      expect(new Set(tasks).size).toBe(IDS.length);
      for (const t of tasks) expect(t.length).toBeLessThanOrEqual(250);
    },
    scaled(240_000),
  );
}

describe('the DAG task ids', () => {
  it('are the ids the next steps name for Airflow 1.10 too', () => {
    const dag = renderDag({ airflowVersion: '1.10', connIds: ['my.db'], envFile: './.env' });
    expect(dag).toContain('airflow test example_secrets_dag check_my.db 2024-01-01');
  });
});
