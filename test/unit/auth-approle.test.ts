/**
 * AppRole on a sandbox server, against a fake Vault and a fake clock: the role bound to the
 * policy, and the secret_id in .env kept while it still logs in and its TTL has not run out (a
 * rerun changes nothing), replaced otherwise, each replacement said aloud.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { airflowLoginStep, POLICY_NAME } from '../../src/steps/airflow-login.js';
import { narrow } from '../../src/steps/context.js';
import { approle, ROLE_NAME } from '../../src/vault/auth/approle.js';
import type { SandboxAuthInput } from '../../src/vault/auth/index.js';
import { FakeVaultServer, fakeClock, flowContext } from '../support/fakes.js';

const ROOT = 's.root-token-of-the-fake';
const HOUR = 3600;

function setUpInput(clock: ReturnType<typeof fakeClock>, over: Partial<SandboxAuthInput> = {}) {
  const said: string[] = [];
  const input: SandboxAuthInput = {
    policy: POLICY_NAME,
    current: {},
    ttl: { seconds: 24 * HOUR, renew: false },
    now: () => clock.now(),
    say: (m) => said.push(m),
    ...over,
  };
  return { input, said };
}

function server() {
  const clock = fakeClock();
  const s = new FakeVaultServer(clock);
  s.tokens.add(ROOT);
  return { clock, s, root: s.client({ url: 'http://127.0.0.1:8200', token: ROOT }) };
}

const setUp = approle.sandbox?.setUp;
if (!setUp) throw new Error('approle has a sandbox set-up');

describe('AppRole on the sandbox server', () => {
  it('enables AppRole, binds the role to the policy with the TTL, and hands out a secret_id that logs in', async () => {
    const { clock, s, root } = server();
    const { input, said } = setUpInput(clock);
    const spec = await setUp(root, input);
    expect(s.authMethods.get('approle')).toBe('approle');
    expect(s.roles.get(ROLE_NAME)).toMatchObject({ policies: [POLICY_NAME], secretIdTtl: 24 * HOUR });
    expect(spec.roleId).toBe(s.roles.get(ROLE_NAME)?.roleId);
    const login = await approle.login(root.withToken(''), spec);
    expect(login.policies).toEqual([POLICY_NAME]);
    expect(said).toEqual([
      'enabled AppRole at auth/approle/',
      `role airflow (policy ${POLICY_NAME}), secret_id valid for 1d`,
    ]);
  });

  it('a rerun keeps the secret_id in .env while it logs in and is within its TTL', async () => {
    const { clock, s, root } = server();
    const first = await setUp(root, setUpInput(clock).input);
    clock.advance(23 * HOUR * 1000);
    const current = approle.kwargs(first);
    const { input, said } = setUpInput(clock, { current });
    const again = await setUp(root, input);
    expect(again).toEqual(first);
    expect(s.roles.get(ROLE_NAME)?.secretIds.size).toBe(1);
    expect(said.join('\n')).not.toContain('making a new one');
  });

  it('past its TTL (the server would still accept it until its tidy): a new one, said aloud', async () => {
    const { clock, root } = server();
    const first = await setUp(root, setUpInput(clock).input);
    clock.advance(25 * HOUR * 1000);
    const { input, said } = setUpInput(clock, { current: approle.kwargs(first) });
    const again = await setUp(root, input);
    expect(again.secretId).not.toBe(first.secretId);
    expect(said).toContain(
      'the secret_id in .env is past its TTL (the server accepts it only until it tidies it away): making a new one',
    );
  });

  it('a secret_id the server no longer knows (a restarted dev server): a new one, said aloud', async () => {
    const { clock, s, root } = server();
    const first = await setUp(root, setUpInput(clock).input);
    s.roles.get(ROLE_NAME)?.secretIds.clear();
    const { input, said } = setUpInput(clock, { current: approle.kwargs(first) });
    expect((await setUp(root, input)).secretId).not.toBe(first.secretId);
    expect(said).toContain('the secret_id in .env no longer logs in: making a new one');
  });

  it('a TTL asked for on this run (--secret-id-ttl) makes a new one even when the old one works', async () => {
    const { clock, root } = server();
    const first = await setUp(root, setUpInput(clock).input);
    const { input } = setUpInput(clock, { current: approle.kwargs(first), ttl: { seconds: HOUR, renew: true } });
    expect((await setUp(root, input)).secretId).not.toBe(first.secretId);
  });

  it('credentials of another role, or of another auth method, are not reused', async () => {
    const { clock, root } = server();
    const first = await setUp(root, setUpInput(clock).input);
    const other = { ...approle.kwargs(first), role_id: 'role-of-someone-else' };
    expect((await setUp(root, setUpInput(clock, { current: other }).input)).secretId).not.toBe(first.secretId);
    const token = { token: ROOT };
    expect((await setUp(root, setUpInput(clock, { current: token }).input)).secretId).not.toBe(first.secretId);
  });
});

describe('the Airflow login step (--auth approle)', () => {
  it('writes the generated policy, sets AppRole up, and a rerun with the written .env keeps the secret_id', async () => {
    const { s } = server();
    const ctx = await flowContext(s, { auth: 'approle' });
    const client = s.client({ url: 'http://127.0.0.1:8200', token: ROOT });
    expect(airflowLoginStep.skip?.(ctx)).toBeUndefined();
    const first = await airflowLoginStep.run(narrow({ ...ctx, client }, airflowLoginStep));
    expect(first.policy).toMatchObject({ name: POLICY_NAME, source: 'generated' });
    expect(s.policies.get(POLICY_NAME)).toContain('path "secret/data/connections/*"');
    const auth = first.airflowAuth;
    if (auth?.method !== 'approle') throw new Error('approle credentials expected');
    mkdirSync(dirname(ctx.paths.env), { recursive: true });
    const kwargs = JSON.stringify(approle.kwargs(auth));
    writeFileSync(
      ctx.paths.env,
      `AIRFLOW__SECRETS__BACKEND=airflow.providers.hashicorp.secrets.vault.VaultBackend\nAIRFLOW__SECRETS__BACKEND_KWARGS='${kwargs}'\n`,
      { mode: 0o600 },
    );
    const again = await airflowLoginStep.run(narrow({ ...ctx, client }, airflowLoginStep));
    expect(again.airflowAuth).toEqual(auth);
  });

  it('token auth sets nothing up: the step is skipped, saying why', async () => {
    const { s } = server();
    expect(airflowLoginStep.skip?.(await flowContext(s, {}))).toBe("--auth token: Airflow uses the tool's token");
  });
});
