/**
 * Airflow's login, as Airflow does it. Token auth: the token looked up before anything spends it
 * (token-lookup.ts); a token limited in uses is named and left unspent. A login method (AppRole,
 * userpass, ...): with Airflow asked, its own login request and what Vault answered it (a 403 on
 * auth/<mount>/login is nothing enabled at that mount, a 400 is refused credentials); without
 * Airflow, one login through the auth registry (src/vault/auth), as the provider logs in.
 */
import { shellArg } from '../ui/invocation.js';
import { authFor, authFromKwargs, methodOf } from '../vault/auth/index.js';
import { VaultError, type VaultClient } from '../vault/client.js';
import { askedAirflow, attempts, loginMount } from './evidence.js';
import { envVarFix, kwargsFix, upFix, YOUR_TOKEN, yourCredential } from './fixes.js';
import { limitedUses, type TokenLookup } from './token-lookup.js';
import {
  type AirflowLogin,
  type CheckInput,
  type CheckOutcome,
  airflowClient,
  defineCheck,
  fail,
  ok,
  skip,
  warn,
} from './types.js';

type Input = CheckInput<'address' | 'health'>;
type Outcome = CheckOutcome<{ login: AirflowLogin }>;

/**
 * A token only the user can give (a set-up this tool did not make), put where the refused one came
 * from: the token kwarg, the file token_path names, or VAULT_TOKEN where it was set.
 */
function yourTokenFix(ctx: Input, l: TokenLookup): string {
  const why = `  # a token the server at ${ctx.access.url} accepts`;
  if (l.source.kind === 'env') return `${envVarFix(ctx, 'VAULT_TOKEN', YOUR_TOKEN)}${why}`;
  const path = ctx.backend.kwargs.token_path;
  if (l.source.key === 'token_path' && typeof path === 'string')
    return `printf '%s\\n' '${YOUR_TOKEN}' > ${shellArg(path)}${why}`;
  return `${kwargsFix(ctx, { token: { set: YOUR_TOKEN } })}${why}`;
}

/** What a refused token's fix is, by where the token came from. */
function refusedFix(ctx: Input, l: TokenLookup): string {
  if (l.source.kind === 'kwarg' && ctx.backend.keySources[l.source.key]?.kind === 'per-key')
    return kwargsFix(ctx, { [l.source.key]: { remove: true } });
  return upFix(ctx, { newToken: true }) ?? yourTokenFix(ctx, l);
}

/**
 * A refused login's fix: the sandbox sets its login up again; else the secret half of the login
 * (secret_id, password: the method's secret kwarg) is the user's to give again.
 */
function refusedLoginFix(ctx: Input, type: string): string | undefined {
  const up = upFix(ctx, { newToken: true });
  if (up) return up;
  const spec = authFromKwargs(ctx.backend.kwargs, ctx.env);
  const key = typeof spec === 'string' ? undefined : methodOf(spec).secretKwargs[0];
  if (!key) return undefined;
  return `${kwargsFix(ctx, { [key]: { set: yourCredential(key) } })}  # the ${type} login's ${key} the server at ${ctx.access.url} accepts`;
}

function tokenLogin(ctx: Input): Outcome {
  const l = ctx.tokenLookup;
  if (!l)
    return fail(
      'no token: neither a token nor a token_path kwarg, and VAULT_TOKEN is unset: the provider cannot build VaultBackend',
      upFix(ctx, { newToken: true }),
    );
  if (l.unreadable) return fail(`${l.from}: ${l.unreadable}: the provider raises on every lookup`, upFix(ctx));
  if (l.unanswered) return skip(`the server did not answer the token lookup (${l.unanswered.kind})`);
  if (l.refused) {
    const stale = ctx.serverToken && ctx.serverToken !== l.token;
    const why = stale
      ? "it is not the sandbox server's live root token (a dev server forgets every token it made when it restarts)"
      : 'expired, revoked, or made by another server';
    const shell = l.source.kind === 'env' && !ctx.envFileKeys.has('VAULT_TOKEN');
    return fail(
      `the server refuses ${l.from} (HTTP ${l.refused.status ?? '?'}): ${why}${shell ? "; doctor reads your shell's VAULT_TOKEN, which may be yesterday's" : ''}`,
      refusedFix(ctx, l),
    );
  }
  const info = l.info;
  const login: AirflowLogin = { ...(l.token ? { token: l.token } : {}), policies: info?.policies ?? [], lookup: l };
  const policies = `policies: ${login.policies.join(', ') || 'none'}`;
  const uses = limitedUses(l);
  if (uses !== undefined)
    return warn(
      `${l.from} may be used ${uses} more time(s) (num_uses): each Airflow lookup spends one, a refused read two; doctor spends none${l.via === 'lookup-self' ? ' beyond the one lookup that told it so' : ''} and asks nothing with it (${policies})`,
      undefined,
      undefined,
      { login },
    );
  const ttl = info && info.ttl > 0 && info.ttl < 300 ? `; it expires in ${info.ttl} s` : '';
  return ttl
    ? warn(`${l.from} is accepted (${policies})${ttl}`, undefined, undefined, { login })
    : ok(`${l.from} is accepted (${policies})`, undefined, { login });
}

/** The mounts where a method of this type is enabled, when the sandbox server's own token can list them. */
async function enabledAt(ctx: Input, type: string): Promise<string[] | undefined> {
  if (!ctx.serverToken) return undefined;
  const methods = await airflowClient(ctx, ctx.serverToken)
    .listAuthMethods()
    .catch(() => undefined);
  return methods
    ? Object.entries(methods)
        .filter(([, t]) => t === type)
        .map(([m]) => m)
    : undefined;
}

/** A 403 on auth/<mount>/login: no method answers there (one that does answers bad credentials with 400). */
async function nothingEnabled(ctx: Input, type: string, mount: string): Promise<Outcome> {
  const found = await enabledAt(ctx, type);
  const at = found?.length ? `; ${type} is enabled at ${found.map((m) => `auth/${m}`).join(', ')}` : '';
  const target = found?.[0];
  const fix =
    target !== undefined
      ? kwargsFix(ctx, { auth_mount_point: target === type ? { remove: true } : { set: target } })
      : 'auth_mount_point' in ctx.backend.kwargs
        ? kwargsFix(ctx, { auth_mount_point: { remove: true } })
        : undefined;
  return fail(
    `Vault answers the ${type} login at auth/${mount}/login with 403: nothing is enabled at auth/${mount}${at}`,
    fix,
  );
}

/** Why Vault refused a login with 400: what the method's own entry in the auth registry says. */
function refusedWhy(ctx: Input, type: string, status: number, path: string): string {
  const spec = authFromKwargs(ctx.backend.kwargs, ctx.env);
  if (typeof spec === 'string') return 'the credentials are wrong';
  return methodOf(spec).explainRefusal(new VaultError('POST', path, 'http', String(status), status), spec).why;
}

/** Airflow's own login, read from its requests: the login request and what Vault answered it. */
async function airflowsLogin(ctx: Input, type: string): Promise<Outcome | undefined> {
  const p = askedAirflow(ctx);
  if (!p) return undefined;
  for (const a of attempts(p)) {
    const login = a.requests.find((r) => loginMount(r.path) !== undefined);
    if (!login) continue;
    const mount = loginMount(login.path) ?? type;
    if (login.status === 200)
      return ok(`Airflow's ${type} login at auth/${mount} works`, undefined, { login: { policies: [] } });
    if (login.status === 403) return nothingEnabled(ctx, type, mount);
    if (login.status === 400)
      return fail(
        `Vault refuses Airflow's ${type} login at auth/${mount} (HTTP 400): ${refusedWhy(ctx, type, 400, login.path ?? '')}`,
        refusedLoginFix(ctx, type),
      );
    if (login.error || login.status === undefined) return undefined;
    return fail(`Vault answers Airflow's ${type} login at auth/${mount} with HTTP ${login.status}`);
  }
  const raisedBefore = attempts(p).find((a) => a.error && !a.requests.length);
  if (raisedBefore?.error) {
    const e = raisedBefore.error[raisedBefore.error.length - 1];
    return fail(`Airflow's ${type} login fails before any request: ${e?.name}: ${e?.message}`);
  }
  return undefined;
}

/** One login through the auth registry, as the provider logs in. */
async function ownLogin(ctx: Input, type: string): Promise<Outcome> {
  const spec = authFromKwargs(ctx.backend.kwargs, ctx.env);
  if (typeof spec === 'string') return skip(`${spec}: Airflow would decide how its ${type} login goes`);
  const client: VaultClient = airflowClient(ctx);
  try {
    const r = await authFor(spec).login(client);
    return ok(`${type} login works (policies: ${r.policies.join(', ') || 'none'})`, undefined, {
      login: { token: r.token, policies: r.policies },
    });
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    const mount = loginMount(e.path) ?? type;
    if (e.status === 403) return nothingEnabled(ctx, type, mount);
    if (e.status === 400)
      return fail(
        `Vault refuses the ${type} login at auth/${mount} (HTTP 400): ${methodOf(spec).explainRefusal(e, spec).why}`,
        refusedLoginFix(ctx, type),
      );
    return fail(`the ${type} login at auth/${mount} fails: ${e.message}`);
  }
}

export const token = defineCheck({
  id: 'token',
  title: 'Vault login (as Airflow logs in)',
  link: 'auth',
  needs: ['address', 'health'],
  verdict: true,
  repair: true,
  async run(ctx) {
    const type = ctx.access.authType;
    if (type === 'token') return tokenLogin(ctx);
    const seen = await airflowsLogin(ctx, type);
    // Airflow never logged in (it never asked Vault: a null mount_point or path): one login as it would.
    return seen ?? ownLogin(ctx, type);
  },
});
