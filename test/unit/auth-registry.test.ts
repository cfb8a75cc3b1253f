/**
 * The auth registry holds for every method in it, whatever methods there are: the schema's
 * choices, --help and the wizard list it; its kwargs round-trip through the provider's reading of
 * them; its secrets are among the kwargs every redactor masks; and a method with a sandbox set-up
 * (against a fake Vault) hands Airflow credentials that log in with the read-only policy.
 */
import { describe, expect, it } from 'vitest';
import { SECRET_KWARGS } from '../../src/airflow/backend/index.js';
import { row } from '../../src/settings/schema.js';
import { AUTH_METHODS, authFromKwargs, methodOf, secretsOf } from '../../src/vault/auth/index.js';
import { FakeVaultServer, fakeClock } from '../support/fakes.js';

const ROOT = 's.root-token-of-the-fake';

describe.each(AUTH_METHODS.map((m) => [m.name, m] as const))('auth method %s', (name, method) => {
  it('is a choice of --auth, named in --help', () => {
    expect(row('auth').choices).toContain(name);
    expect(row('auth').help).toContain(`${name} (${method.brief})`);
    expect(row('auth').doc).toContain(`\`${name}\``);
  });

  it("its placeholders are kwargs the provider's reading takes back to the same method and kwargs", () => {
    const spec = authFromKwargs(method.placeholders);
    if (typeof spec === 'string') throw new Error(spec);
    expect(spec.method).toBe(name);
    expect(methodOf(spec).kwargs(spec)).toEqual(method.placeholders);
  });

  it('its secrets are kwargs every redactor masks, and secretsOf gives their values', () => {
    for (const k of method.secretKwargs) expect(SECRET_KWARGS).toContain(k);
    const spec = authFromKwargs(method.placeholders);
    if (typeof spec === 'string') throw new Error(spec);
    expect(secretsOf(spec)).toEqual(method.secretKwargs.map((k) => method.placeholders[k]).filter(Boolean));
  });

  it('kwargs without what it needs are refused in words, never a spec', () => {
    const spec = method.fromKwargs({ auth_type: name }, new Map());
    expect(typeof spec).toBe('string');
  });

  it.skipIf(!method.sandbox)(
    'on a sandbox server: credentials that log in under the policy, the same on a rerun',
    async () => {
      const clock = fakeClock();
      const server = new FakeVaultServer(clock);
      server.tokens.add(ROOT);
      const root = server.client({ url: 'http://127.0.0.1:8200', token: ROOT });
      const setUp = method.sandbox;
      if (!setUp) throw new Error('no set-up');
      const input = {
        policy: 'airflow-secrets-read',
        current: {},
        ttl: { seconds: 3600, renew: false },
        now: () => clock.now(),
        say: () => {},
      };
      const spec = await setUp.setUp(root, input);
      expect(spec.method).toBe(name);
      expect((await method.login(root.withToken(''), spec)).policies).toEqual(['airflow-secrets-read']);
      const again = await setUp.setUp(root, { ...input, current: method.kwargs(spec) });
      expect(again).toEqual(spec);
      expect(setUp.plan({ policy: 'airflow-secrets-read', ttl: input.ttl }).join('\n')).toContain(
        'airflow-secrets-read',
      );
      const secrets = secretsOf(spec);
      expect(secrets.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        expect(setUp.summary(spec)).not.toContain(secret);
        expect(method.describe(spec)).not.toContain(secret);
      }
    },
  );
});
