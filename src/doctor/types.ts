/** A doctor check (flutter doctor's validators are the model): never throws, returns status, detail, fix. */
import type { ServerBinary } from '../vault/binary.js';
import type { VaultClient } from '../vault/client.js';
import type { SandboxPaths, ServerState } from '../sandbox.js';
import type { ConfigFile } from '../config.js';
import type { AirflowInstall } from '../airflow/runner.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** Extra lines shown with -v. */
  details?: string[];
}

export type CheckOutcome = Omit<CheckResult, 'id' | 'title'>;

/** What the checks learn and share; later checks read what earlier ones found. */
export interface DoctorContext {
  /** The sandbox dir, when doctor runs in one. */
  paths?: SandboxPaths;
  config?: ConfigFile;
  state?: ServerState | null;
  /** Where each setting came from, for messages: '.env' or 'environment'. */
  envSource: string;
  /** The environment Airflow would run with: the process env, overlaid with the sandbox .env. */
  env: Map<string, string>;
  /** The process environment alone (shadowing vars live here, not in .env). */
  processEnv: NodeJS.ProcessEnv;
  home: string;
  binary?: ServerBinary;
  url?: URL;
  client?: VaultClient;
  token?: string;
  /** The live server's own root token, when this is a sandbox and its banner is readable. */
  serverToken?: string;
  kwargs?: Record<string, unknown>;
  /** The CA Airflow trusts for https (`verify` as a path, else VAULT_CACERT), and the namespace it sends. */
  caFile?: string;
  namespace?: string;
  mount?: string;
  connectionsPath?: string;
  kvVersion?: 1 | 2;
  airflow?: AirflowInstall | null;
  connIds?: string[];
}

export interface Check {
  id: string;
  title: string;
  /** Ids of checks that must be ok (or warn) for this one to mean anything. */
  needs?: string[];
  run(ctx: DoctorContext): Promise<CheckOutcome>;
}

export const ok = (detail: string, details?: string[]): CheckOutcome => ({ status: 'ok', detail, details });
export const warn = (detail: string, fix?: string, details?: string[]): CheckOutcome => ({ status: 'warn', detail, fix, details });
export const fail = (detail: string, fix?: string, details?: string[]): CheckOutcome => ({ status: 'fail', detail, fix, details });
export const skip = (detail: string): CheckOutcome => ({ status: 'skip', detail });
