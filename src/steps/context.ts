/** What the create flow's steps share. The core reports through `report`; it never writes to a terminal. */
import type { CreateOptions, Settings } from '../settings.js';
import type { SandboxPaths } from '../sandbox/index.js';
import type { ServerBinary } from '../vault/binary.js';
import type { ListenAddress } from '../vault/address.js';
import type { VaultClient } from '../vault/client.js';
import type { WriteOutcome } from '../io/write.js';
import type { AirflowInstall } from '../airflow/runner.js';
import type { Target } from '../target/index.js';
import type { AuthSpec } from '../vault/auth/index.js';
import type { Diagnose } from '../airflow/diagnosis.js';
import type { AirflowRunRecord } from '../airflow/run/record.js';

export interface Reporter {
  /** A line of progress inside the running step. */
  info(message: string): void;
  /** Something the user should know even when all went well. */
  warn(message: string): void;
  /**
   * Where a long wait stands, called often: a terminal shows the latest; plain output prints one
   * at once and then at most one every few seconds. Absent: the step falls back to info.
   */
  progress?(message: string): void;
  /**
   * A line that matters the moment it happens (a component ready, a task's new state): printed at
   * once in plain output, shown as the latest line on a terminal. Absent: the step falls back to info.
   */
  event?(message: string): void;
}

export type SeedOutcome = 'created' | 'updated' | 'unchanged';

export interface SeedResult {
  kind: 'connection' | 'variable';
  id: string;
  path: string;
  outcome: SeedOutcome;
}

export interface CheckResult {
  id: string;
  ok: boolean;
  /** The Airflow-style description (password masked). */
  line: string;
  mismatched: string[];
}

export interface ServerHandle {
  pid: number;
  url: string;
  token: string;
  /** True when this run started the process (and must stop it if the run fails). */
  startedNow: boolean;
}

/** What preflight decided about the server, for start (and the dry run) to act on. */
export interface ServerDecision {
  /** Reuse the recorded server (proven ours, on the wanted address), if its token still works. */
  reuse?: { pid: number; url: string };
  /** Why a recorded server cannot be reused (it will be stopped first when it is ours). */
  restartReason?: string;
  /** A recorded server proven ours that must be stopped before starting the new one. */
  stopFirst?: number;
}

export interface CreateContext {
  options: CreateOptions;
  report: Reporter;
  /** Interactive prompts, when a TTY and no --yes (filled in by the UI layer). */
  settings: Settings;
  configFile?: string;
  paths: SandboxPaths;
  binary?: ServerBinary;
  /** The real Airflow to check with, when one was found or installed. */
  airflow?: AirflowInstall | null;
  address?: ListenAddress;
  decision?: ServerDecision;
  server?: ServerHandle;
  /** The Vault this run talks to (src/target): the dev server started here, or an existing one. */
  target?: Target;
  /** The tool's own client (the root or admin token), for setting up and seeding. */
  client?: VaultClient;
  /** How Airflow logs in, when not with the tool's token (set by the AppRole step). */
  airflowAuth?: AuthSpec;
  /** The ACL policy this run wrote for Airflow, and where its text came from. */
  policy?: { name: string; text: string; source: 'generated' | 'policy.hcl' };
  seeded: SeedResult[];
  files: { path: string; outcome: WriteOutcome; note?: string }[];
  checks: CheckResult[];
  /** What real Airflow said, when it was asked (--check airflow|dag|run). */
  airflowChecks: { id: string; kind: 'connection' | 'variable' | 'dag' | 'run'; ok: boolean; detail: string }[];
  /** The Airflow components a real run (--check run) left running on purpose (--keep). */
  keptRun?: AirflowRunRecord;
  /**
   * What this run started that must be stopped again if it fails or is interrupted, newest last.
   * The command runs them (a signal handler too); each must be safe to run more than once.
   */
  undo: (() => Promise<void>)[];
  /** doctor's explanation of a miss, handed in by the command (steps never import doctor). */
  diagnose?: Diagnose;
  warnings: string[];
  nextSteps: string[];
  /** The server's web UI, when it serves one. */
  ui?: { url: string; sign_in: string } | null;
}

export interface Step {
  title: string;
  /**
   * What `run` would do on this machine now, in lines, without touching anything (no install, no
   * write, no server): the dry run is made of these.
   */
  plan?(ctx: CreateContext): Promise<string[]> | string[];
  run(ctx: CreateContext): Promise<void>;
  /** Returns a reason to skip, or undefined to run. */
  skip?(ctx: CreateContext): string | undefined;
}
