import { selfCommand, shellArg } from '../ui/invocation.js';
import type { VaultError } from '../vault/client.js';
import { AUTH_REQUIRES, isAuthType } from '../airflow/backend/index.js';
import { airflowClient, type Check, fail, namespaceOf, ok, skip } from './types.js';
import { MAX_TOKEN_BYTES, readUserFile } from '../io/read.js';
import { FileError } from '../errors.js';

/**
 * Logs in the way Airflow's VaultBackend will (token, token_path, VAULT_TOKEN, or AppRole with
 * role_id/secret_id), so the checks after it read Vault with Airflow's own rights, not root's.
 */
export const token: Check = {
  id: 'token',
  title: 'Vault login (as Airflow logs in)',
  link: 'auth',
  needs: ['health'],
  provides: ['airflowToken', 'policies'],
  async run(ctx) {
    const k = ctx.kwargs ?? {};
    const authType = typeof k.auth_type === 'string' ? k.auth_type : 'token';
    const client = airflowClient(ctx);
    const ns = namespaceOf(ctx.kwargs);
    const rewrite = ctx.paths
      ? `${selfCommand()} up ${shellArg(ctx.paths.dir)} (rewrites .env with the live token)`
      : undefined;
    if (authType === 'approle') {
      if (typeof k.role_id !== 'string' || !k.role_id)
        return fail(
          'auth_type approle without role_id: Airflow cannot log in',
          'add "role_id" (and "secret_id") to the kwargs: vault read auth/approle/role/<role>/role-id',
        );
      const mount = typeof k.auth_mount_point === 'string' && k.auth_mount_point ? k.auth_mount_point : 'approle';
      try {
        const r = await client.approleLogin(
          k.role_id,
          typeof k.secret_id === 'string' ? k.secret_id : undefined,
          mount,
        );
        return ok(`AppRole login at auth/${mount} works (policies: ${r.policies.join(', ') || 'none'})`, undefined, {
          airflowToken: r.token,
          policies: r.policies,
        });
      } catch (e) {
        const err = e as VaultError;
        const why =
          err.status === 400
            ? 'role_id or secret_id is wrong (or the secret_id expired)'
            : err.status === 404 || err.status === 405
              ? `no AppRole auth method at auth/${mount}`
              : err.message;
        return fail(
          `AppRole login at auth/${mount} fails (HTTP ${err.status ?? err.kind}): ${why}`,
          err.status === 404 || err.status === 405
            ? `vault auth enable approle, or set "auth_mount_point" to where AppRole is enabled`
            : ctx.paths
              ? `${selfCommand()} ${shellArg(ctx.paths.dir)} --yes makes a new secret_id and rewrites .env`
              : 'vault write -f auth/approle/role/<role>/secret-id gives a new secret_id; put it in the kwargs',
        );
      }
    }
    if (authType !== 'token') {
      const rule = isAuthType(authType) ? AUTH_REQUIRES[authType] : undefined;
      const all = [...(rule?.needs ?? []), ...(rule?.atLogin ?? [])];
      const need = rule?.note ?? (all.length ? all.map((n) => n.join(' or ')).join(', ') : undefined);
      return skip(
        `auth_type ${authType}: doctor logs in only with token, token_path and approle; ${authType} needs ${need ?? 'its own keys'} (Airflow's verdict above still tells whether it works)`,
      );
    }
    let tok: string | undefined;
    let from: string;
    if (typeof k.token === 'string' && k.token) {
      tok = k.token;
      from = "the kwargs' token";
    } else if (typeof k.token_path === 'string' && k.token_path) {
      from = `token_path ${k.token_path}`;
      try {
        tok = readUserFile(k.token_path, { what: 'token_path', maxBytes: MAX_TOKEN_BYTES }).trim();
      } catch (e) {
        if (!(e instanceof FileError)) throw e;
        return fail(
          `token_path ${k.token_path} ${e.problem}: the provider raises on every lookup`,
          `write the token into ${k.token_path} (mode 0600) or fix token_path`,
        );
      }
    } else {
      tok = ctx.env.get('VAULT_TOKEN');
      from = 'VAULT_TOKEN (no token in the kwargs)';
    }
    if (!tok) {
      return fail(
        'no token: the kwargs have neither "token" nor "token_path" and VAULT_TOKEN is unset; the provider refuses to build VaultBackend',
        rewrite ?? 'set "token" in AIRFLOW__SECRETS__BACKEND_KWARGS',
      );
    }
    try {
      const info = await client.withToken(tok).lookupSelf();
      return ok(`${from} is accepted (policies: ${info.policies.join(', ') || 'none'})`, undefined, {
        airflowToken: tok,
        policies: info.policies,
      });
    } catch (e) {
      const err = e as VaultError;
      if (ns && err.status !== undefined && err.status !== 403) {
        // The same token in the root namespace tells a missing namespace from a bad token.
        const rootOk = await ctx
          .client!.withToken(tok)
          .lookupSelf()
          .then(
            () => true,
            () => false,
          );
        if (rootOk)
          return {
            ...fail(
              `namespace '${ns}' (in the kwargs) does not answer (HTTP ${err.status}); the token works in the root namespace: the namespace does not exist or holds nothing for Airflow`,
              `bao namespace list (or vault namespace list) shows the namespaces; fix "namespace" in the kwargs`,
            ),
            link: 'mount and path',
          };
      }
      if (err.status === 403) {
        const stale = ctx.serverToken && ctx.serverToken !== tok;
        return fail(
          `the server refuses ${from}${stale ? ": it is not the sandbox server's live root token (a dev server forgets every token it made when it restarts)" : ' (expired, revoked, or made by another server)'}`,
          rewrite ?? 'use a valid token: vault token lookup <token> tells whether the server knows it',
        );
      }
      return fail(err.message);
    }
  },
};
