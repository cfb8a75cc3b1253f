/**
 * Where a sandbox keeps each of its files: the only place that spells a sandbox path. Everything
 * else asks the sandbox model (src/sandbox/index.ts) or, knowing only the dir, `sandboxLayout`.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { devTlsCaFile } from '../vault/tls.js';

import {
  CONFIG_FILE,
  DAG_FILE,
  DEFAULT_DAGS_DIR,
  DEFAULT_SANDBOX_DIR,
  POLICY_FILE,
  STATE_DIR,
  STATE_FILE,
} from './names.js';

export * from './names.js';

export interface SandboxPaths {
  dir: string;
  /** The config file in use (--config, else the one the state names, else <dir>/secrets-sandbox.yaml). */
  config: string;
  env: string;
  dockerEnv: string;
  gitignore: string;
  /** The folder of the example DAG (airflow.dags_dir, else <dir>/dags) and the DAG file in it. */
  dagsDir: string;
  dag: string;
  /** The read-only policy written for Airflow's AppRole: beside the config, ready to hand over. */
  policy: string;
  stateDir: string;
  state: string;
  /** The server's stdout: the banner, with the root token (0600). */
  serverOut: string;
  /** The server's stderr: its log. */
  serverLog: string;
  /** Hashes of the files this tool wrote, to tell our files from the user's edits. */
  written: string;
  /** Held while a run changes the sandbox: one run at a time. */
  lock: string;
  /** The server's private HOME and working dir: with the sandbox id, its identity. */
  home: string;
  /** Where the server's -dev-tls writes its CA and certificate. */
  tlsDir: string;
  /** The CA of a sandbox server that serves HTTPS. */
  caFile: string;
  /** The record of an existing Vault the sandbox uses instead of its own server. */
  target: string;
  /** A private AIRFLOW_HOME for checks and next steps, so the user's Airflow is never touched. */
  airflowHome: string;
  /** The venv --with-airflow installs into, and its airflow. */
  venv: string;
  venvAirflow: string;
}

export interface LayoutOptions {
  /** The config file in use; default <dir>/secrets-sandbox.yaml. */
  config?: string;
  /** The example DAG's folder (absolute, or relative to the dir); default <dir>/dags. */
  dagsDir?: string;
}

export function sandboxLayout(dir: string, o: LayoutOptions = {}): SandboxPaths {
  const stateDir = join(dir, STATE_DIR);
  const config = o.config ?? join(dir, CONFIG_FILE);
  const dagsDir = resolve(dir, o.dagsDir ?? DEFAULT_DAGS_DIR);
  const tlsDir = join(stateDir, 'tls');
  const venv = join(dir, '.venv');
  return {
    dir,
    config,
    env: join(dir, '.env'),
    dockerEnv: join(dir, 'docker.env'),
    gitignore: join(dir, '.gitignore'),
    dagsDir,
    dag: join(dagsDir, DAG_FILE),
    policy: join(dirname(config), POLICY_FILE),
    stateDir,
    state: join(stateDir, STATE_FILE),
    serverOut: join(stateDir, 'server.out'),
    serverLog: join(stateDir, 'server.log'),
    written: join(stateDir, 'written.json'),
    lock: join(stateDir, 'lock'),
    home: join(stateDir, 'home'),
    tlsDir,
    caFile: devTlsCaFile(tlsDir),
    target: join(stateDir, 'target.json'),
    airflowHome: join(stateDir, 'airflow'),
    venv,
    venvAirflow: join(venv, 'bin', 'airflow'),
  };
}

/**
 * The sandbox a command means, the same for every command: the dir given, else the current dir
 * when it holds secrets-sandbox.yaml, else ./secrets-sandbox.
 */
export function findSandboxDir(dirArg: string | undefined, cwd: string = process.cwd()): string {
  if (dirArg !== undefined) return resolve(cwd, dirArg);
  if (existsSync(join(cwd, CONFIG_FILE))) return resolve(cwd);
  return resolve(cwd, DEFAULT_SANDBOX_DIR);
}

/** A path as the config keeps it: relative to the sandbox dir when inside it, so a moved or copied dir keeps its own. */
export function relativeToSandbox(dir: string, p: string): string {
  const rel = p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : p === dir ? '.' : undefined;
  return rel ?? p;
}

/** The inverse of relativeToSandbox. */
export function fromSandbox(dir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dir, p);
}
