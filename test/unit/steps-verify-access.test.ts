/**
 * The verify-access step's branches against a fake Vault: a refused token, a mount that is
 * missing (mounted on our own server, never on an existing one), a KV version other than the
 * settings say, and an engine that is not KV.
 */
import { describe, expect, it } from 'vitest';
import { StepError, UsageError } from '../../src/errors.js';
import { narrow } from '../../src/steps/context.js';
import { verifyAccessStep } from '../../src/steps/verify-access.js';
import { FakeVaultServer, flowContext } from '../support/fakes.js';

const ROOT = 's.root-token-of-the-fake';

async function verify(server: FakeVaultServer, flags: Record<string, unknown> = {}, token = ROOT) {
  server.tokens.add(ROOT);
  const ctx = await flowContext(server, flags);
  const client = server.client({ url: 'http://127.0.0.1:8200', token });
  const outcome = await verifyAccessStep.run(narrow({ ...ctx, client }, verifyAccessStep)).catch((e: unknown) => e);
  return { outcome, lines: ctx.report.lines.map((l) => l.text) };
}

const failure = (o: unknown) => {
  expect(o).toBeInstanceOf(StepError);
  return o as StepError;
};

describe('verify-access step', () => {
  it('a KV v2 mount as the settings say: passes, and says so', async () => {
    const { outcome, lines } = await verify(new FakeVaultServer().mount('secret', 'kv', 2));
    expect(outcome).toEqual({});
    expect(lines).toEqual(['secret/ is KV v2']);
  });

  it('a refused token: the step fails before it asks about the mount, with the rerun as the fix', async () => {
    const server = new FakeVaultServer().mount('secret', 'kv', 2);
    const e = failure((await verify(server, {}, 's.not-a-token')).outcome);
    expect(e.message).toMatch(/^the root token was refused: GET \/v1\/auth\/token\/lookup-self: 403/);
    expect(e.fix).toContain('a dev server forgets its tokens when it restarts');
    expect(e.exitCode).toBe(1);
  });

  it('a missing mount on our own dev server is mounted as the KV version the settings say', async () => {
    const server = new FakeVaultServer();
    const { outcome, lines } = await verify(server, { mount: 'kv-airflow' });
    expect(outcome).toEqual({});
    expect(server.mounts.get('kv-airflow')).toMatchObject({ type: 'kv', kvVersion: 2 });
    expect(lines).toEqual(['mounted KV v2 at kv-airflow/']);
  });

  it('a missing mount on an existing Vault is never mounted: the step names it and the flag to fix it', async () => {
    const server = new FakeVaultServer();
    server.tokens.add(ROOT);
    const ctx = await flowContext(server, { vaultUrl: 'https://vault.example.com:8200' }, { env: {} }).catch(
      (e: unknown) => e,
    );
    // An existing Vault needs a token from the environment: without one it is bad input before any step.
    expect(ctx).toBeInstanceOf(UsageError);
    const withToken = await flowContext(
      server,
      { vaultUrl: 'https://vault.example.com:8200' },
      {},
      { VAULT_TOKEN: ROOT },
    );
    const client = server.client({ url: 'https://vault.example.com:8200', token: ROOT });
    const e = failure(await verifyAccessStep.run(narrow({ ...withToken, client }, verifyAccessStep)).catch((x) => x));
    expect(e.message).toBe(
      "nothing is mounted at 'secret/' on https://vault.example.com:8200 (or the token may not see it)",
    );
    expect(e.fix).toContain('pass --mount');
    expect(server.mounts.size).toBe(0);
  });

  it('KV v1 where the settings say v2: the step names both and the config key that fixes it', async () => {
    const e = failure((await verify(new FakeVaultServer().mount('secret', 'kv', 1))).outcome);
    expect(e.message).toBe("'secret/' is KV v1, but the settings say v2");
    expect(e.fix).toMatch(/^set vault\.kv_version: 1 in .*secrets-sandbox\.yaml, or use another --mount$/);
  });

  it('KV v2 where the config says v1: the same, the other way round', async () => {
    const server = new FakeVaultServer().mount('secret', 'kv', 2);
    server.tokens.add(ROOT);
    const ctx = await flowContext(server, {});
    ctx.settings.kvVersion = 1;
    const client = server.client({ url: 'http://127.0.0.1:8200', token: ROOT });
    const e = failure(await verifyAccessStep.run(narrow({ ...ctx, client }, verifyAccessStep)).catch((x) => x));
    expect(e.message).toBe("'secret/' is KV v2, but the settings say v1");
  });

  it('an engine that is not KV at the mount: named, with another --mount as the fix', async () => {
    const e = failure((await verify(new FakeVaultServer().mount('secret', 'transit', null))).outcome);
    expect(e.message).toBe("'secret/' is a transit engine, not KV");
    expect(e.fix).toBe('pick another --mount');
  });
});
