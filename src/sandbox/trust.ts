/**
 * Which entries of a sandbox the trust boundary (src/io/trust.ts) checks before a command reads it:
 * the directory, the config (also a --config file elsewhere), `.sandbox/` and its state, the env
 * files, the venv's airflow and the DAG folder. The records come first, so the links recorded at
 * creation (facts.links) can judge the rest.
 */
import { dirname, join } from 'node:path';
import { assertTrusted, recordLinks, type TrustEntry } from '../io/trust.js';
import type { SandboxPaths } from './layout.js';
import { DAG_FILE } from './names.js';

export interface TrustInput {
  /** The DAG folder this run writes to, when it is not the one the config names (--dags-dir). */
  dagsDir?: string;
  /** The symlinks leaving the sandbox that were there when it was created (facts.links). */
  links?: Readonly<Record<string, string>>;
}

type Paths = Pick<
  SandboxPaths,
  | 'dir'
  | 'stateDir'
  | 'state'
  | 'config'
  | 'env'
  | 'dockerEnv'
  | 'gitignore'
  | 'venv'
  | 'venvAirflow'
  | 'dagsDir'
  | 'dag'
>;

/** The dir and the records: checked before the facts are read. */
export function recordEntries(paths: Pick<SandboxPaths, 'dir' | 'stateDir' | 'state'>): TrustEntry[] {
  return [
    { path: paths.dir, what: 'the sandbox directory', kind: 'dir' },
    { path: paths.stateDir, what: "the sandbox's state directory", kind: 'dir' },
    { path: paths.state, what: "the sandbox's state", kind: 'file' },
  ];
}

/** The config file in use (and the sandbox's own, when another one is in use): checked before it is read. */
export function configEntries(paths: Pick<SandboxPaths, 'config'>, own: string): TrustEntry[] {
  return [
    { path: paths.config, what: 'config file', kind: 'file' },
    ...(paths.config !== own ? [{ path: own, what: 'config file', kind: 'file' as const }] : []),
  ];
}

/** Every entry checked, records first. `own` is <dir>/secrets-sandbox.yaml. */
export function sandboxTrustEntries(paths: Paths, own: string, o: TrustInput = {}): TrustEntry[] {
  const dagsDir = o.dagsDir ?? paths.dagsDir;
  const dag = o.dagsDir ? join(o.dagsDir, DAG_FILE) : paths.dag;
  return [
    ...recordEntries(paths),
    ...configEntries(paths, own),
    { path: paths.env, what: 'the env file', kind: 'file' },
    { path: paths.dockerEnv, what: 'the docker env file', kind: 'file' },
    { path: paths.gitignore, what: '.gitignore', kind: 'file' },
    { path: paths.venv, what: "the sandbox's venv", kind: 'dir' },
    { path: dirname(paths.venvAirflow), what: "the sandbox's venv", kind: 'dir' },
    { path: paths.venvAirflow, what: "the venv's airflow", kind: 'file' },
    { path: dagsDir, what: 'the DAG folder', kind: 'dir' },
    { path: dag, what: 'the example DAG', kind: 'file' },
  ];
}

/**
 * Refuses (exit 2, naming the path and its owner) a sandbox another user controls, before anything
 * of it is read, run or sent anywhere.
 */
export function assertSandboxTrusted(paths: Paths, own: string, o: TrustInput = {}, env = process.env): void {
  assertTrusted(sandboxTrustEntries(paths, own, o), { sandboxDir: paths.dir, links: o.links, env });
}

/** The links leaving the sandbox now, recorded with its facts when it is created. */
export function sandboxLinks(paths: Paths, own: string, o: TrustInput = {}): Record<string, string> {
  return recordLinks(paths.dir, sandboxTrustEntries(paths, own, o));
}
