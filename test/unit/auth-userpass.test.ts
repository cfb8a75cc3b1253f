/**
 * --auth userpass against a fake Vault: the provider's kwargs, its login request, a refusal
 * explained, and the sandbox user bound to the policy with a generated password that is kept on
 * a rerun (so .env does not change) and written again to a restarted dev server.
 */
import { describe, expect, it } from 'vitest';
import { dotenvQuote } from '../../src/airflow/backend/index.js';
import { authFromKwargs, type SandboxAuthInput } from '../../src/vault/auth/index.js';
import { USER_NAME, userpass } from '../../src/vault/auth/userpass.js';
import { FakeVaultServer, fakeClock, httpError } from '../support/fakes.js';

const ROOT = 's.root-token-of-the-fake';
const POLICY = 'airflow-secrets-read';

function server() {
  const clock = fakeClock();
  const s = new FakeVaultServer(clock);
  s.tokens.add(ROOT);
  return { clock, s, root: s.client({ url: 'http://127.0.0.1:8200', token: ROOT }) };
}

function input(current: Record<string, unknown> = {}) {
  const said: string[] = [];
  const i: SandboxAuthInput = {
    policy: POLICY,
    current,
    ttl: { seconds: 0, renew: false },
    now: () => 0,
    say: (m) => said.push(m),
  };
  return { i, said };
}

const setUp = userpass.sandbox?.setUp;
if (!setUp) throw new Error('userpass has a sandbox set-up');

describe('userpass', () => {
  it("the provider's kwargs: auth_type, username, password; auth_mount_point only when not the default", () => {
    const spec = { method: 'userpass', username: 'airflow', password: 'pw-123456' } as const;
    expect(userpass.kwargs(spec)).toEqual({ auth_type: 'userpass', username: 'airflow', password: 'pw-123456' });
    expect(userpass.kwargs({ ...spec, mount: 'up' })).toMatchObject({ auth_mount_point: 'up' });
    expect(authFromKwargs({ auth_type: 'userpass', username: 'a', password: 'b', auth_mount_point: 'up' })).toEqual({
      method: 'userpass',
      username: 'a',
      password: 'b',
      mount: 'up',
    });
    expect(authFromKwargs({ auth_type: 'userpass', username: 'a' })).toBe(
      'auth_type is userpass but the kwargs have no password',
    );
    expect(userpass.describe(spec)).not.toContain('pw-123456');
  });

  it('logs in at auth/<mount>/login/<username> with the password, as hvac does', async () => {
    const asked: [string, Record<string, unknown>][] = [];
    const api = {
      login: async (path: string, body: Record<string, unknown>) => {
        asked.push([path, body]);
        return { token: 's.x', policies: [POLICY], ttl: 0 };
      },
    };
    await userpass.login(api as never, { method: 'userpass', username: 'airflow', password: 'pw', mount: 'up' });
    expect(asked).toEqual([['up/login/airflow', { password: 'pw' }]]);
  });

  it('a refusal is explained: a wrong password (with the rerun that fixes it), no userpass at the mount', () => {
    const spec = { method: 'userpass', username: 'airflow', password: 'pw' } as const;
    const wrong = userpass.explainRefusal(httpError('POST', 'auth/userpass/login/airflow', 400), spec, 'css sb --yes');
    expect(wrong.why).toBe(
      'the server knows no user airflow with that password (a dev server forgets its users when it restarts)',
    );
    expect(wrong.fix).toBe('css sb --yes creates the user again and rewrites .env');
    const missing = userpass.explainRefusal(httpError('POST', 'auth/userpass/login/airflow', 405), spec);
    expect(missing.why).toBe('no userpass auth method at auth/userpass');
  });

  it('on a sandbox server: enables userpass, binds the user to the policy, and the password logs in', async () => {
    const { s, root } = server();
    const { i, said } = input();
    const spec = await setUp(root, i);
    expect(s.authMethods.get('userpass')).toBe('userpass');
    expect(s.users.get(USER_NAME)).toEqual({ password: spec.password, policies: [POLICY] });
    expect((await userpass.login(root.withToken(''), spec)).policies).toEqual([POLICY]);
    expect(said).toEqual([
      'enabled userpass at auth/userpass/',
      `user airflow (policy ${POLICY}), a new password, in .env`,
    ]);
  });

  it('the generated password is long, random, and needs no quoting in any env file reader', async () => {
    const { root } = server();
    const a = (await setUp(root, input().i)).password;
    const b = (await setUp(root, input().i)).password;
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
    expect(dotenvQuote(a)).toBe(`'${a}'`);
  });

  it('a rerun keeps the password in .env and writes the user again (a restarted dev server forgot it)', async () => {
    const { s, root } = server();
    const first = await setUp(root, input().i);
    s.users.clear();
    const { i, said } = input(userpass.kwargs(first));
    expect(await setUp(root, i)).toEqual(first);
    expect(s.users.get(USER_NAME)?.password).toBe(first.password);
    expect(said.at(-1)).toBe(`user airflow (policy ${POLICY}), the password in .env kept`);
  });

  it("another user's credentials in .env are not taken over: a new password for the sandbox user", async () => {
    const { root } = server();
    const other = { auth_type: 'userpass', username: 'someone-else', password: 'theirs-123456' };
    expect((await setUp(root, input(other).i)).password).not.toBe('theirs-123456');
  });
});
