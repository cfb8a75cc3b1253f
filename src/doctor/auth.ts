/**
 * Airflow's login, as the provider does it: with `auth_type: approle` a POST to
 * auth/<auth_mount_point>/login with the kwargs' role_id and secret_id. The token it yields is what
 * the later checks (token, policy, mount, connections) use, so they see what Airflow will see.
 */
import { selfCommand, shellArg } from '../ui/invocation.js';
import { authFor, authFromKwargs } from '../vault/auth/index.js';
import { VaultError } from '../vault/client.js';
import { type Check, fail, ok } from './types.js';

export const auth: Check = {
  id: 'auth',
  title: "Airflow's login",
  needs: ['health'],
  async run(ctx) {
    const type = ctx.kwargs?.auth_type ?? 'token';
    if (type === 'token') return ok('token auth: Airflow sends the token as it is (see "Vault token")');
    const spec = authFromKwargs(ctx.kwargs ?? {}, ctx.env);
    if (typeof spec === 'string') return fail(spec, 'put the missing keys in AIRFLOW__SECRETS__BACKEND_KWARGS');
    try {
      const login = await authFor(spec).login(ctx.client!.withToken(''));
      ctx.token = login.token;
      ctx.client = ctx.client!.withToken(login.token);
      return ok(`${spec.method} login accepted (policies: ${login.policies.join(', ') || 'none'})`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      const rerun = ctx.paths ? `${selfCommand()} ${shellArg(ctx.paths.dir)} --yes (makes a new secret_id when the old one no longer logs in)` : undefined;
      if (e.kind === 'http' && (e.status === 400 || e.status === 403)) {
        const said = e.vaultErrors.join('; ');
        return fail(
          `the ${spec.method} login was refused (${e.status}${said ? `: ${said}` : ''}): the secret_id is wrong, expired (secret_id_ttl) or used up (secret_id_num_uses), or the role_id names no role`,
          rerun ?? 'make a new secret_id (vault write -f auth/approle/role/<role>/secret-id) and put it in the kwargs',
        );
      }
      if (e.kind === 'http' && e.status === 404) {
        return fail(`nothing answers at auth/${'mount' in spec && spec.mount ? spec.mount : 'approle'}/login: AppRole is not enabled there`, rerun ?? 'vault auth enable approle, or set auth_mount_point to where it is enabled');
      }
      return fail(e.message);
    }
  },
};
