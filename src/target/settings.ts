/**
 * --vault-url and its companions, checked before anything runs (bad input exits 2 with nothing
 * done): the url, the CA file, the namespace, and the credentials, which come from the
 * environment or a file, never from a command-line value (argv is visible to every user).
 */
import { UsageError } from '../errors.js';
import { AUTH_METHODS, type AuthMethodName, type AuthSpec, methodOf, secretsOf } from '../vault/auth/index.js';
import { registerSecret } from '../ui/mask.js';
import type { Layer } from '../settings/merge.js';
import type { SettingKey } from '../settings/schema.js';
import { MAX_TEXT_BYTES, MAX_TOKEN_BYTES, readUserFile } from '../io/read.js';

export interface ExistingVaultSettings {
  /** The origin, e.g. https://vault.example.com:8200 */
  url: string;
  caFile?: string;
  namespace?: string;
  /** How the tool itself logs in there (listing, and writing with --seed); absent with AppRole alone. */
  toolAuth?: AuthSpec;
  /** Where the tool's token came from, for messages. */
  tokenSource?: string;
  /** How Airflow logs in (the kwargs): the same token (or its file), or the AppRole from the env. */
  airflowAuth: AuthSpec;
  /** --seed: write the connections and variables there, after the paths are confirmed. */
  seed: boolean;
}

const ONLY_WITH_URL: SettingKey[] = ['caCert', 'namespace', 'tokenFile', 'seed'];

export function existingVaultSettings(
  v: Layer,
  where: (k: SettingKey) => string,
  abs: (k: SettingKey, p: string) => string,
  env: NodeJS.ProcessEnv,
  auth: AuthMethodName,
): ExistingVaultSettings | undefined {
  if (v.vaultUrl === undefined) {
    const stray = ONLY_WITH_URL.find((k) => v[k] !== undefined && v[k] !== false);
    if (stray)
      throw new UsageError(
        `${where(stray)} applies only to an existing Vault; add --vault-url URL, or leave it out for a sandbox dev server`,
      );
    return undefined;
  }
  const raw = String(v.vaultUrl).trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${where('vaultUrl')} '${raw}' is not a URL; write it as https://vault.example.com:8200`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      `${where('vaultUrl')} '${raw}' is not http:// or https://; write it as https://vault.example.com:8200`,
    );
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new UsageError(
      `${where('vaultUrl')} '${raw}' has a path, query or user part; hvac appends /v1/... to it: pass just ${url.origin}`,
    );
  }
  const out: ExistingVaultSettings = {
    url: url.origin,
    airflowAuth: { method: 'token', token: '' },
    seed: v.seed === true,
  };

  if (v.caCert !== undefined) {
    const ca = abs('caCert', String(v.caCert));
    if (url.protocol !== 'https:')
      throw new UsageError(`${where('caCert')} is for an https:// url, and ${url.origin} is plain http`);
    const pem = readUserFile(ca, {
      what: where('caCert'),
      shownAs: String(v.caCert),
      maxBytes: MAX_TEXT_BYTES,
      fix: "give the PEM file of the CA that signed the server's certificate",
    });
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(
        `${where('caCert')} '${String(v.caCert)}' holds no PEM certificate; give the CA's .pem file`,
      );
    out.caFile = ca;
  }
  if (v.namespace !== undefined) {
    const ns = String(v.namespace)
      .trim()
      .replace(/^\/+|\/+$/g, '');
    if (!ns || /\s/.test(ns))
      throw new UsageError(
        `${where('namespace')} '${String(v.namespace)}' is not a namespace path; write it as team-a or parent/team-a`,
      );
    out.namespace = ns;
  }

  // The tool's token: a file, else the environment. Never a flag value.
  let token: string | undefined;
  if (v.tokenFile !== undefined) {
    const file = abs('tokenFile', String(v.tokenFile));
    const text = readUserFile(file, {
      what: where('tokenFile'),
      shownAs: String(v.tokenFile),
      maxBytes: MAX_TOKEN_BYTES,
      fix: 'give a file holding the token',
    });
    token = text.trim();
    if (!token) throw new UsageError(`${where('tokenFile')} '${String(v.tokenFile)}' is empty; put the token in it`);
    out.toolAuth = { method: 'token', tokenPath: file };
    out.tokenSource = `--token-file ${file}`;
  } else {
    const name = env.VAULT_TOKEN ? 'VAULT_TOKEN' : env.BAO_TOKEN ? 'BAO_TOKEN' : undefined;
    if (name) {
      token = (env[name] ?? '').trim();
      out.toolAuth = { method: 'token', token };
      out.tokenSource = name;
    }
  }
  registerSecret(token);

  if (auth === 'token') {
    if (!out.toolAuth)
      throw new UsageError(
        `no token for ${url.origin}: export VAULT_TOKEN (or BAO_TOKEN), or pass --token-file FILE; a token is never taken from a flag value`,
      );
    out.airflowAuth = out.toolAuth;
  } else {
    out.airflowAuth = airflowCredentials(auth, env);
    registerSecret(...secretsOf(out.airflowAuth));
  }
  if (out.seed && !out.toolAuth)
    throw new UsageError(
      `--seed writes to ${url.origin} with your token: export VAULT_TOKEN (or pass --token-file FILE); the AppRole may only read`,
    );
  return out;
}

/** Airflow's own credentials for an existing Vault, as its auth method reads them from the environment. */
function airflowCredentials(auth: AuthMethodName, env: NodeJS.ProcessEnv): AuthSpec {
  const method = methodOf(auth);
  if (!method.fromEnv) {
    const offered = AUTH_METHODS.filter((m) => m.name === 'token' || m.fromEnv).map((m) => m.name);
    throw new UsageError(
      `--auth ${auth} with --vault-url is not offered (it sets Airflow's login up on the sandbox's own server); use --auth ${offered.join(' or ')} there`,
    );
  }
  const spec = method.fromEnv(env);
  if (typeof spec === 'string')
    throw new UsageError(`--auth ${auth} with --vault-url needs ${spec} (never passed as flags)`);
  return spec;
}
