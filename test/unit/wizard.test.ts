/**
 * Prompt paths through an injected enquirer: each prompt is answered by keypresses on the real
 * prompt object (no TTY needed), so the validators and the flag mapping are what gets tested.
 */
import { PassThrough } from 'node:stream';
import Enquirer from 'enquirer';
import { describe, expect, it } from 'vitest';
import { collectAnswers, connectionPreview, validateConnectionLine } from '../../src/ui/wizard.js';

type Answer = string | { keys: string[] };

/** An `ask` backed by a real Enquirer whose prompts type the given answers; records what was asked and refused. */
function scripted(answers: Answer[]) {
  const asked: string[] = [];
  const refused: string[] = [];
  const ask = async (options: Record<string, unknown>) => {
    const enquirer = new Enquirer();
    const next = answers.shift();
    if (next === undefined) throw new Error(`no scripted answer for '${String(options.message)}'`);
    asked.push(String(options.message));
    enquirer.on(
      'prompt',
      (p: {
        once: (e: string, f: () => void) => void;
        keypress: (s: string | null, k?: unknown) => Promise<void>;
        submit: () => Promise<void>;
        state: { error?: string };
        value: unknown;
        input: string;
        clear?: unknown;
      }) => {
        p.once('run', async () => {
          const keys = typeof next === 'string' ? [next] : next.keys;
          for (const k of keys) {
            if (k === '\n') await p.submit();
            else if (k === 'down') await p.keypress(null, { name: 'down' });
            else for (const ch of k) await p.keypress(ch);
          }
          await p.submit();
        });
      },
    );
    const sink = new PassThrough();
    const validate = options.validate as ((v: unknown) => true | string) | undefined;
    const recording = validate
      ? (v: unknown) => {
          const r = validate(v);
          if (r !== true) refused.push(r);
          return r;
        }
      : undefined;
    const res = (await enquirer.prompt({
      ...options,
      validate: recording,
      name: 'v',
      stdout: sink as never,
    } as never)) as { v: unknown };
    return res.v;
  };
  return { ask, asked, refused };
}

describe('wizard prompts (injected enquirer)', () => {
  it('maps answers to the same options the flags give, and refuses bad values as typed', async () => {
    const s = scripted([
      'sb', // dir: typing replaces the suggested default
      { keys: ['\x7f'.repeat(20), '10.0.0.1:8200', '\n', '\x7f'.repeat(20), '127.0.0.1:8301'] }, // address: non-loopback refused
      { keys: ['down'] }, // root token: choose one
      { keys: ['bad.id', '\n', '\x7f'.repeat(6), 'good-id'] }, // a '.' is refused
      '',
      '',
      '', // mount, connections_path, variables_path
      { keys: ['down'] }, // auth: approle
      { keys: ['down'] }, // Airflow 3
      'pg=postgres://u:p@db/app',
      '', // finish connections
      'k=v',
      '', // finish variables
      '', // DAG: yes
      { keys: ['down'] }, // check: vault
    ]);
    const o = await collectAnswers(s.ask, { vaultBin: '/bin/true' }, {});
    expect(o).toMatchObject({
      dir: 'sb',
      address: '127.0.0.1:8301',
      rootToken: 'good-id',
      auth: 'approle',
      airflowVersion: '3',
      conn: ['pg=postgres://u:p@db/app'],
      var: ['k=v'],
      check: 'vault',
      yes: true,
    });
    // Defaults accepted as offered are not choices: they stay unset, so they are not written into the config.
    for (const k of ['mount', 'connectionsPath', 'variablesPath', 'dag'] as const) expect(o[k], k).toBeUndefined();
    expect(s.refused.join('\n')).toContain("'10.0.0.1:8200' is not a loopback address");
    expect(s.refused.join('\n')).toContain("contains '.'");
  });

  it('asks nothing a flag already answered', async () => {
    const s = scripted([]);
    const o = await collectAnswers(
      s.ask,
      {
        dir: 'x',
        vaultBin: '/bin/true',
        address: '127.0.0.1:1',
        rootToken: 't',
        mount: 'm',
        connectionsPath: 'c',
        variablesPath: 'v',
        auth: 'token',
        airflowVersion: '2',
        conn: ['a=http://h'],
        var: [],
        dag: false,
        check: 'none',
      },
      {},
    );
    expect(s.asked).toEqual([]);
    expect(o.yes).toBe(true);
  });

  it('previews a connection line while it is typed', () => {
    expect(connectionPreview('')).toBe('empty to finish');
    expect(connectionPreview('pg=postgres://u:p@db:5432/app')).toBe(
      '✔ id: pg. Host: db, Port: 5432, Schema: app, Login: u, Password: ***, extra: None',
    );
    expect(connectionPreview('a b=http://h')).toMatch(/^✖ connection id 'a b'/);
    expect(validateConnectionLine('x=http://h:abc')).toContain('Port could not be cast');
    expect(validateConnectionLine('/no/such/file')).toContain('neither ID=URI nor an existing file');
  });
});
