/**
 * What the create flow's steps share, and the shape of a step. A step reads the run's input (the
 * settings, the sandbox's paths, the injected services), declares in `needs` what it takes from
 * earlier steps, and returns what it produces; the runner hands it a context where every need is
 * present (or stops with an internal error naming the one missing), and merges what it returns.
 * The core reports through `report`; it never writes to a terminal.
 */
import type { AirflowInstall } from '../airflow/runner.js';
import type { Diagnose } from '../airflow/diagnosis.js';
import type { AirflowRunRecord } from '../airflow/run/record.js';
import type { WriteOutcome } from '../io/write.js';
import type { SandboxPaths } from '../sandbox/index.js';
import type { CreateOptions, Settings } from '../settings.js';
import type { Target } from '../target/index.js';
import type { ListenAddress } from '../vault/address.js';
import type { VaultApi, VaultClientOptions } from '../vault/api.js';
import type { AuthSpec } from '../vault/auth/index.js';
import type { ServerBinary } from '../vault/binary.js';

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

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Whether a TCP port on this host can be bound now. */
export type PortProbe = (a: ListenAddress) => Promise<boolean>;

/** What steps do to the world, injected: the command passes the real ones, unit tests fakes. */
export interface Services {
  /** A client for a Vault server (src/vault/client.ts speaks HTTP). */
  vault(options: VaultClientOptions): VaultApi;
  /** Whether a port is free (the address choice). */
  portIsFree: PortProbe;
  clock: Clock;
  /** The user's environment, as the run found it. */
  env: NodeJS.ProcessEnv;
  /** doctor's explanation of a miss Airflow reported (steps never import doctor). */
  diagnose: Diagnose;
}

export type SeedOutcome = 'created' | 'updated' | 'unchanged';

export interface SeedResult {
  kind: 'connection' | 'variable';
  id: string;
  path: string;
  outcome: SeedOutcome;
}

/** One connection read back as VaultBackend reads it, compared with what was seeded. */
export interface ConnectionCheck {
  id: string;
  ok: boolean;
  /** The Airflow-style description (password masked). */
  line: string;
  mismatched: string[];
}

/** What real Airflow said about one id or the example DAG. */
export interface AirflowCheck {
  id: string;
  kind: 'connection' | 'variable' | 'dag' | 'run';
  ok: boolean;
  detail: string;
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

/** The ACL policy this run wrote for Airflow, and where its text came from. */
export interface WrittenPolicy {
  name: string;
  text: string;
  source: 'generated' | 'policy.hcl';
}

export interface FileOutcome {
  path: string;
  outcome: WriteOutcome;
  note?: string;
}

/** Everything a step may hand to later ones (and to the report), by name. */
export interface Produced {
  /** The real Airflow to check with: found by resolve, or installed (--with-airflow); null when none. */
  airflow: AirflowInstall | null;
  binary: ServerBinary;
  address: ListenAddress;
  decision: ServerDecision;
  server: ServerHandle;
  /** The Vault this run talks to (src/target): the dev server started here, or an existing one. */
  target: Target;
  /** The tool's own client (the root or admin token), for setting up and seeding. */
  client: VaultApi;
  /** How Airflow logs in, when not with the tool's token. */
  airflowAuth: AuthSpec;
  policy: WrittenPolicy;
  seeded: SeedResult[];
  files: FileOutcome[];
  checks: ConnectionCheck[];
  airflowChecks: AirflowCheck[];
  nextSteps: string[];
  /** The server's web UI, when it serves one. */
  ui: { url: string; sign_in: string } | null;
  /** The Airflow components a real run (--check run --keep) left running on purpose. */
  keptRun: AirflowRunRecord;
}

/** What resolve settled before the first step: the same for the whole run. */
export interface FlowInput {
  options: CreateOptions;
  settings: Settings;
  paths: SandboxPaths;
  services: Services;
  report: Reporter;
  warnings: string[];
  /**
   * What this run spawned, from the moment it exists: stopped again if the run fails or is
   * interrupted. The server's pid; the Airflow components of a real run (a stop safe to call twice).
   */
  spawned: { serverPid?: number; airflow?: { stop(): Promise<unknown> } };
  /** Aborted when the run is interrupted (SIGINT, SIGTERM, SIGHUP): a step that waits stops waiting. */
  signal?: AbortSignal;
  /** How the run ended badly, for the one sentence that says so (src/commands/create.ts). */
  ending?: RunEnding;
}

/** What a failed or interrupted run did about itself: the step it was in, the server it had started. */
export interface RunEnding {
  /** The title of the step running when the run was interrupted. */
  interruptedStep?: string;
  /** A server this run started was stopped again. */
  serverStopped?: boolean;
  /** The pid of a server this run started that would not stop (its record is kept for `down`). */
  serverLeft?: number;
}

export type FlowContext = FlowInput & Partial<Produced>;

/** The context a step runs with: what it needs is there. */
export type StepContext<N extends keyof Produced> = FlowContext & Pick<Produced, N>;

/** A step's dry run: its lines, and what it decided that later plans read (the binary, the address). */
export interface StepPlan {
  lines: string[];
  decided?: Partial<Produced>;
}

export interface Step<N extends keyof Produced = keyof Produced> {
  title: string;
  /** What the step takes from earlier steps. */
  needs: readonly N[];
  /** A reason to skip, or undefined to run. Depends only on what resolve settled. */
  skip?(ctx: FlowContext): string | undefined;
  /**
   * What `run` would do on this machine now, without touching anything (no install, no write, no
   * server): the dry run is made of these.
   */
  plan?(ctx: FlowContext): StepPlan | Promise<StepPlan>;
  /** Property syntax, not a method: a run that reads more than `needs` names does not type-check. */
  run: (ctx: StepContext<N>) => Promise<Partial<Produced>>;
}

/** A step whose needs are the list it declares (never inferred from what `run` would like to read). */
export function defineStep<N extends keyof Produced = never>(
  step: Omit<Step<N>, 'run'> & { run: (ctx: StepContext<NoInfer<N>>) => Promise<Partial<Produced>> },
): Step<N> {
  return step;
}

/** Raised when the list runs a step before the one that makes what it needs: a bug in the order, not the user's. */
export class StepOrderError extends Error {
  constructor(step: string, missing: string) {
    super(`internal error: the step '${step}' needs ${missing}, which no earlier step made`);
    this.name = 'StepOrderError';
  }
}

function provides<N extends keyof Produced>(ctx: FlowContext, needs: readonly N[]): ctx is StepContext<N> {
  return needs.every((k) => ctx[k] !== undefined);
}

/** The context with the step's needs checked present. */
export function narrow<N extends keyof Produced>(ctx: FlowContext, step: Step<N>): StepContext<N> {
  if (provides(ctx, step.needs)) return ctx;
  throw new StepOrderError(step.title, step.needs.filter((k) => ctx[k] === undefined).join(', '));
}
