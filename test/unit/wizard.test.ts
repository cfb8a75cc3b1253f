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
  const screen: string[] = [];
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
            else if (k === 'space') await p.keypress(' ', { name: 'space' });
            else if (k === 'ctrl-u') await p.keypress('\x15', { name: 'u', ctrl: true });
            else for (const ch of k) await p.keypress(ch);
          }
          await p.submit();
        });
      },
    );
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => screen.push(d.toString()));
    const validate = options.validate as ((v: unknown) => true | string | Promise<true | string>) | undefined;
    const recording = validate
      ? async (v: unknown) => {
          const r = await validate(v);
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
  return { ask, asked, refused, screen };
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

  it('a rerun keeps what is there unless unticked; the example kept beside a new connection is written into the config', async () => {
    const base = { dir: 'x', vaultBin: '/bin/true', address: '127.0.0.1:1', rootToken: 't', mount: 'm' };
    const paths = { connectionsPath: 'c', variablesPath: 'v', auth: 'token', airflowVersion: '2' };
    const tail = { dag: true, check: 'vault' };
    const kept = scripted(['', 'my_pg=postgres://u:pw@db/app', '', '']);
    const o = await collectAnswers(kept.ask, { ...base, ...paths, ...tail }, { cfg: {}, exampleSeeded: true });
    expect(kept.asked[0]).toMatch(/^Connections to keep/);
    expect(o.conn).toEqual(['smtp_default=smtps://user:host@relay.example.com:465', 'my_pg=postgres://u:pw@db/app']);
    expect(o.drop).toBeUndefined();
    // Unticking one the config holds removes it from the config (asked, never silent); the others stay.
    const cfg = { connections: { a: 'http://a', b: 'http://b' }, variables: { k: 'v' } };
    const untick = scripted([{ keys: ['space'] }, '', { keys: ['down', 'space'] }, '']);
    const d = await collectAnswers(untick.ask, { ...base, ...paths, ...tail }, { cfg, exampleSeeded: false });
    expect(d.drop).toEqual({ connections: ['a'], variables: ['k'] });
    expect(d.conn).toBeUndefined();
  });

  it('Ctrl-U clears what was typed left of the cursor, as in a shell', async () => {
    const s = scripted([{ keys: ['oops', 'ctrl-u', 'sb'] }]);
    const o = await collectAnswers(
      s.ask,
      {
        vaultBin: '/bin/true',
        address: '127.0.0.1:1',
        rootToken: 't',
        mount: 'm',
        connectionsPath: 'c',
        variablesPath: 'v',
        auth: 'token',
        airflowVersion: '2',
        conn: [],
        var: [],
        dag: true,
        check: 'none',
      },
      {},
    );
    expect(o.dir).toBe('sb');
  });

  it('a yes/no answer shows yes or no, never true or false', async () => {
    const s = scripted([{ keys: ['n'] }]);
    const base = {
      dir: 'x',
      vaultBin: '/bin/true',
      address: '127.0.0.1:1',
      rootToken: 't',
      mount: 'm',
      connectionsPath: 'c',
      variablesPath: 'v',
      auth: 'token',
      airflowVersion: '2',
      conn: [],
      var: [],
      check: 'none',
    };
    const o = await collectAnswers(s.ask, base, {});
    expect(o.dag).toBe(false);
    const shown = s.screen.join('').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(shown).toMatch(/Write the example DAG\? .*· no/);
    expect(shown).not.toMatch(/true|false/);
  });

  it('a refused answer names the field and the value (a URI with its password masked)', async () => {
    expect(validateConnectionLine('my_pg=postgres//u:hunter22@db:5432/x')).toBe(
      "connection 'my_pg': the URI 'postgres//u:****@db:5432/x' starts with 'postgres//' where 'postgres://' belongs",
    );
    const s = scripted([{ keys: ['10.0.0.1:8200', '\n', '\x7f'.repeat(13), '127.0.0.1:1'] }]);
    await collectAnswers(
      s.ask,
      {
        dir: 'x',
        vaultBin: '/bin/true',
        rootToken: 't',
        mount: 'm',
        connectionsPath: 'c',
        variablesPath: 'v',
        auth: 'token',
        airflowVersion: '2',
        conn: [],
        var: [],
        dag: true,
        check: 'none',
      },
      {},
    );
    expect(s.refused).toHaveLength(1);
    expect(s.refused[0]).toMatch(/^listen address '10\.0\.0\.1:8200' is not a loopback address; /);
  });
});
