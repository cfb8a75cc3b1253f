/**
 * The ready step against a fake Vault that answers health 200, with the server's log as the real
 * servers write it: a dev server whose cluster port (PORT+1) was taken after the tool checked it
 * runs without it and says so only in its log, so the step reads the log and fails, naming the port.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/errors.js';
import { narrow } from '../../src/steps/context.js';
import { readyStep } from '../../src/steps/ready.js';
import { FakeVaultServer, flowContext } from '../support/fakes.js';

// Lines as OpenBao 2.7 and HashiCorp Vault 1.21 printed them with 127.0.0.1:9731 held by another process.
const LOST = [
  '2026-12-07T22:07:14.330Z [INFO]  core.cluster-listener.tcp: starting listener: listener_address=127.0.0.1:9731',
  '2026-12-07T22:07:14.330Z [ERROR] core.cluster-listener.tcp: error starting listener: error="listen tcp 127.0.0.1:9731: bind: address already in use"',
];
const FINE = [
  '2026-12-07T22:07:14.330Z [INFO]  core.cluster-listener.tcp: starting listener: listener_address=127.0.0.1:9731',
  '2026-12-07T22:07:14.331Z [INFO]  core.cluster-listener: serving cluster requests: cluster_listen_address=127.0.0.1:9731',
];

async function ready(log: string[], startedNow: boolean) {
  const server = new FakeVaultServer().mount('secret', 'kv', 2);
  const ctx = await flowContext(server);
  mkdirSync(dirname(ctx.paths.serverLog), { recursive: true, mode: 0o700 });
  writeFileSync(ctx.paths.serverLog, `${log.join('\n')}\n`, { mode: 0o600 });
  const handle = { pid: process.pid, url: 'http://127.0.0.1:9730', token: 's.root', startedNow };
  return readyStep.run(narrow({ ...ctx, server: handle }, readyStep)).catch((e: unknown) => e);
}

describe('ready step', () => {
  it('a server that lost its cluster port: the step fails, naming the port and the rerun', async () => {
    const e = await ready(LOST, true);
    expect(e).toBeInstanceOf(StepError);
    expect((e as StepError).message).toContain('cluster port 127.0.0.1:9731');
    expect((e as StepError).fix).toMatch(/^rerun/);
  });

  it('a server that bound its cluster port is ready', async () => {
    const r = await ready(FINE, true);
    expect(r).not.toBeInstanceOf(Error);
    expect(r).toHaveProperty('client');
  });

  it('a server reused from an earlier run is not judged again by its old log', async () => {
    const r = await ready(LOST, false);
    expect(r).not.toBeInstanceOf(Error);
  });
});
