/**
 * A doctor check (flutter doctor's validators are the model). Each check declares what it needs
 * (other checks that must not have failed) and what it provides (typed facts later checks read);
 * it never writes into a shared context. A check that throws is reported as `crash`, with the error.
 */
import type { ServerBinary } from '../vault/binary.js';
import type { VaultClient } from '../vault/client.js';
import type { Sandbox, SandboxPaths, ServerRecord } from '../sandbox/index.js';
import type { ConfigFile } from '../config.js';
import type { AirflowInstall } from '../airflow/runner.js';
import type { AirflowVersion, BackendRead } from '../airflow/backend/index.js';
import type { ProbeReport } from '../airflow/probe.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip' | 'crash';

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

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** Extra lines shown with -v. */
  details?: string[];
  /** The link of Airflow's chain this check looks at. */
  link?: Link;
  /** On Airflow's verdict: the check whose failure explains it. */
  explainedBy?: string;
}

/** What checks learn and hand to later checks (each field provided by exactly one check). */
export interface Facts {
  binary?: ServerBinary;
  url?: URL;
  /** A client for the Vault Airflow talks to, logged in as Airflow logs in (token or approle). */
  client?: VaultClient;
  /** The token Airflow ends up with after its login (approle gives a new one). */
  airflowToken?: string;
  /** Policies of that token. */
  policies?: string[];
  connIds?: string[];
  varKeys?: string[];
}

export interface CheckOutcome {
  status: CheckStatus;
  detail: string;
  fix?: string;
  details?: string[];
  facts?: Partial<Facts>;
  /** When the failure is in another link than the check's usual one (a 403 is policy, a miss is path). */
  link?: Link;
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
  /** The environment Airflow would run with: the process env, overlaid with the sandbox .env. */
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
  /** AIRFLOW__SECRETS__BACKEND_KWARGS as Airflow reads it (airflow.cfg included when Airflow told us). */
  kwargs?: Record<string, unknown>;
  /** The kwargs text as Airflow reads it (undefined when not set). */
  kwargsRaw?: string;
  /** Where the kwargs and class came from, e.g. 'AIRFLOW__SECRETS__BACKEND_KWARGS in .env' or 'airflow.cfg'. */
  kwargsSource: string;
  backendClass?: string;
  backendSource: string;
  /** The backend settings as the reader gives them: every kwarg with its source, and what went wrong reading. */
  backend?: BackendRead;
  /** Why the sandbox .env could not be sourced (the environment alone was used). */
  envFileError?: string;
  mount?: string | null;
  connectionsPath?: string | null;
  variablesPath?: string | null;
  kvVersion?: 1 | 2;
  airflow?: AirflowInstall | null;
  /**
   * Without an Airflow to ask: the major the sandbox is for, from what the user said
   * (airflow.version in the config), else the Airflow the last run found (state.json).
   */
  intendedAirflow?: { major: AirflowVersion; source: string };
  /** Real Airflow's answer (the probe), when an Airflow was found; null when it could not answer. */
  probe?: ProbeReport | null;
  probeError?: string;
  connIds?: string[];
  varKeys?: string[];
}

/** What a check sees: the context and the facts earlier checks provided, read-only. */
export type CheckInput = Readonly<DoctorContext> & Readonly<Facts>;

export interface Check {
  id: string;
  title: string;
  link?: Link;
  /** Ids of checks that must be ok (or warn) for this one to mean anything. */
  needs?: string[];
  /** The facts this check hands on. */
  provides?: readonly (keyof Facts)[];
  run(input: CheckInput): Promise<CheckOutcome>;
}

export const ok = (detail: string, details?: string[], facts?: Partial<Facts>): CheckOutcome => ({
  status: 'ok',
  detail,
  details,
  facts,
});
export const warn = (detail: string, fix?: string, details?: string[], facts?: Partial<Facts>): CheckOutcome => ({
  status: 'warn',
  detail,
  fix,
  details,
  facts,
});
export const fail = (detail: string, fix?: string, details?: string[], facts?: Partial<Facts>): CheckOutcome => ({
  status: 'fail',
  detail,
  fix,
  details,
  facts,
});
export const skip = (detail: string): CheckOutcome => ({ status: 'skip', detail });

/** The kwargs' namespace (hvac sends it as X-Vault-Namespace on every request, the login included). */
export function namespaceOf(kwargs: Record<string, unknown> | undefined): string | undefined {
  return typeof kwargs?.namespace === 'string' && kwargs.namespace ? kwargs.namespace : undefined;
}

/** The client Airflow's requests amount to: the address, the namespace, and (when given) Airflow's token. */
export function airflowClient(ctx: CheckInput, token?: string): VaultClient {
  const c = ctx.client!.withNamespace(namespaceOf(ctx.kwargs));
  return token ? c.withToken(token) : c;
}
