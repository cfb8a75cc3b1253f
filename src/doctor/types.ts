/**
 * A doctor check (flutter doctor's validators are the model): one file per check. Its id is one of
 * CHECK_IDS; it lists the checks it needs, and its `run` gets exactly the facts those checks hand
 * on, typed (no `!`); it says itself whether `--fix` repairs its failure. It never writes into a
 * shared context. A check that throws is reported as `crash`, with the error.
 */
import type { VaultClient } from '../vault/client.js';
import type { Sandbox, SandboxPaths, ServerRecord } from '../sandbox/index.js';
import type { ConfigFile } from '../config.js';
import type { AirflowInstall } from '../airflow/runner.js';
import type { AirflowVersion, BackendRead, VaultAccess } from '../airflow/backend/index.js';
import type { ProbeReport } from '../airflow/probe.js';
import type { TokenLookup } from './token-lookup.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip' | 'crash';

/** Every check, in the order doctor runs them (src/doctor/index.ts holds the list in this order). */
export const CHECK_IDS = [
  'server-binary',
  'airflow',
  'airflow-verdict',
  'backend-class',
  'config-source',
  'backend-kwargs',
  'vault-env',
  'workers',
  'address',
  'proxy',
  'scheme',
  'tls',
  'reachable',
  'health',
  'token',
  'mount',
  'connections',
  'variables',
  'values',
  'shadow',
  'dag',
  'vault-token-file',
  'macos-fork-safety',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** The links of Airflow's chain, in the order Airflow walks them; a check explains one link. */
export const LINKS = [
  'setup',
  'backend class',
  'config source',
  'kwargs',
  'auth',
  'address/TLS/proxy',
  'policy',
  'mount and path',
  'secret shape',
  'shadowing',
  'airflow',
] as const;
export type Link = (typeof LINKS)[number];

/** How doctor's verdict was reached: Airflow's own answer, or the emulation of it. */
export type VerdictKind = 'airflow' | 'emulation';

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** Extra lines shown with -v. */
  details?: string[];
  /** The link of Airflow's chain this result is about. */
  link?: Link;
  /** On Airflow's verdict: the check whose failure explains it. */
  explainedBy?: CheckId;
  /** `--fix` repairs this failure (restarting, re-seeding and rewriting the sandbox's own files). */
  repairable?: boolean;
  /** A warning that is the broken link whenever a later link breaks (see CheckOutcome.suspect). */
  suspect?: boolean;
}

/** The login Airflow ends up with, as the token check found it. */
export interface AirflowLogin {
  /** The token Airflow sends (after a login, the one it gave); unknown when only Airflow logged in. */
  token?: string;
  policies: string[];
  /** What the token is, when it could be looked up without spending it. */
  lookup?: TokenLookup;
}

/** What one read per id found, without Airflow: the secret's key/values, or null for nothing there. */
export type SecretReads = Map<string, Record<string, unknown> | null>;

/** What each check hands on when it passes (ok or warn); only the checks listed here provide facts. */
export interface Provided {
  address: { url: URL; client: VaultClient };
  token: { login: AirflowLogin };
  connections: { connReads: SecretReads };
  variables: { varReads: SecretReads };
}

/** The checks that provide facts (every key of Provided, and only those: the type says so). */
export const PROVIDES: Readonly<Record<keyof Provided, true>> = {
  address: true,
  token: true,
  connections: true,
  variables: true,
};

type Nothing = Record<never, never>;
type ProvidedBy<I extends CheckId> = I extends keyof Provided ? Provided[I] : Nothing;
type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer R) => void ? R : never;
/** The facts a check that needs `N` may read: those every check in `N` provides. */
export type FactsOf<N extends CheckId> = [N] extends [never] ? Nothing : Intersect<ProvidedBy<N>>;

export interface CheckOutcome<F = never> {
  status: CheckStatus;
  detail: string;
  fix?: string;
  details?: string[];
  /** What the check hands on; required of a providing check that passes (the runner enforces it). */
  facts?: F;
  /** When the failure is in another link than the check's usual one (a 403 is policy, a miss is path). */
  link?: Link;
  /** Overrides the check's own `repair` for this outcome (a .env the user edited is not ours to rewrite). */
  repairable?: boolean;
  /**
   * A warning that becomes the first broken link when a later link breaks: kwargs Airflow drops
   * are harmless while its defaults happen to work, and the cause whenever they do not.
   */
  suspect?: boolean;
}

/** What doctor knows before any check runs: the sandbox, the env Airflow would get, the kwargs, Airflow's answer. */
export interface DoctorContext {
  /** The sandbox, when doctor runs in one (src/sandbox): its paths, config, records and seeded set. */
  sandbox?: Sandbox;
  /** The sandbox's paths (sandbox.paths), when doctor runs in one. */
  paths?: SandboxPaths;
  config?: ConfigFile;
  /** The server the sandbox recorded. */
  state?: ServerRecord | null;
  /** Where each setting came from, for messages: the .env path or 'the environment'. */
  envSource: string;
  /** The environment Airflow would run with: the user's, with the sandbox .env sourced on top by bash. */
  env: Map<string, string>;
  /** Names set by the sandbox .env (the rest of env comes from the shell). */
  envFileKeys: Set<string>;
  /** The process environment alone (shadowing vars live here, not in .env). */
  processEnv: NodeJS.ProcessEnv;
  home: string;
  /** The token the tools would use: kwargs token, else VAULT_TOKEN, else ~/.vault-token. */
  token?: string;
  /** The live server's own root token, when this is a sandbox and its banner is readable. */
  serverToken?: string;
  /** Where that server listens. */
  serverUrl?: string;
  /** The kwargs VaultBackend is built with (undefined when Airflow reads none). */
  kwargs?: Record<string, unknown>;
  /** The kwargs text as Airflow reads it (undefined when not set). */
  kwargsRaw?: string;
  /** Where the kwargs and class came from, e.g. 'AIRFLOW__SECRETS__BACKEND_KWARGS in ./.env'. */
  kwargsSource: string;
  backendClass?: string;
  backendSource: string;
  /** The backend settings as the reader gives them: every kwarg with its source, and what went wrong reading. */
  backend: BackendRead;
  /** Airflow 3: the backend a task builds first, as the reader reads it (`section` says whether [workers] decides). */
  workerBackend?: BackendRead;
  /** Where and how VaultBackend talks to Vault, with the provider's and hvac's fallbacks. */
  access: VaultAccess;
  /** Why the sandbox .env could not be sourced (the environment alone was used). */
  envFileError?: string;
  mount?: string | null;
  connectionsPath?: string | null;
  variablesPath?: string | null;
  kvVersion?: 1 | 2;
  /** The Airflow asked (or found): undefined when none was found. */
  airflow?: AirflowInstall | null;
  /**
   * Without an Airflow to ask: the major the sandbox is for, from what the user said
   * (airflow.version in the config), else the Airflow the last run found (state.json).
   */
  intendedAirflow?: { major: AirflowVersion; source: string };
  /** Real Airflow's answer (the probe), when an Airflow was found; null when it could not answer. */
  probe?: ProbeReport | null;
  probeError?: string;
  /** Why Airflow was not asked although one was found (a use-limited token, a blocking kwargs file). */
  notAsked?: string;
  /** The token Airflow would send, looked up before anything spends it (token auth only). */
  tokenLookup?: TokenLookup;
  connIds?: string[];
  varKeys?: string[];
}

/** What a check sees: the context and the facts of the checks it needs, read-only. */
export type CheckInput<N extends CheckId = never> = Readonly<DoctorContext> & Readonly<FactsOf<N>>;

export interface Check<I extends CheckId = CheckId, N extends CheckId = CheckId> {
  id: I;
  title: string;
  link?: Link;
  /** Checks that must pass (ok or warn) for this one to mean anything; their facts are this one's input. */
  needs?: readonly N[];
  /** `--fix` (the sandbox's server restarted or reused, re-seeded, its own files rewritten) repairs a failure. */
  repair?: boolean;
  /**
   * A pass of this check is part of the emulation's pass: when it skips, the emulation cannot say
   * the set-up works, and leaves the verdict to Airflow.
   */
  verdict?: boolean;
  run(input: CheckInput<N>): Promise<CheckOutcome<ProvidedBy<I>>>;
}

/** A check with its ids inferred (the list in index.ts holds checks of every shape). */
export function defineCheck<I extends CheckId, N extends CheckId = never>(c: Check<I, N>): Check<I, N> {
  return c;
}

export const ok = <F = never>(detail: string, details?: string[], facts?: F): CheckOutcome<F> => ({
  status: 'ok',
  detail,
  ...(details ? { details } : {}),
  ...(facts !== undefined ? { facts } : {}),
});
export const warn = <F = never>(detail: string, fix?: string, details?: string[], facts?: F): CheckOutcome<F> => ({
  status: 'warn',
  detail,
  ...(fix !== undefined ? { fix } : {}),
  ...(details ? { details } : {}),
  ...(facts !== undefined ? { facts } : {}),
});
export const fail = (detail: string, fix?: string, details?: string[]): CheckOutcome<never> => ({
  status: 'fail',
  detail,
  ...(fix !== undefined ? { fix } : {}),
  ...(details ? { details } : {}),
});
export const skip = (detail: string): CheckOutcome<never> => ({ status: 'skip', detail });

/** The kwargs' namespace (hvac sends it as X-Vault-Namespace on every request, the login included). */
export function namespaceOf(kwargs: Record<string, unknown> | undefined): string | undefined {
  return typeof kwargs?.namespace === 'string' && kwargs.namespace ? kwargs.namespace : undefined;
}

/** The client Airflow's requests amount to: the address, the namespace, and (when given) Airflow's token. */
export function airflowClient(
  ctx: Pick<DoctorContext, 'kwargs'> & { client: VaultClient },
  token?: string,
): VaultClient {
  const c = ctx.client.withNamespace(namespaceOf(ctx.kwargs));
  return token ? c.withToken(token) : c;
}
