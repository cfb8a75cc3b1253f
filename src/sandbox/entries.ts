/**
 * Every path a sandbox has, as a list with what each one is: a file or a directory, whether it holds
 * a secret, and whose it is. `ours`: the tool's private records under `.sandbox/`, which only the
 * tool writes; `user`: what the user sees, edits or hands over (the config, the env files, the DAG,
 * the venv). A table keyed by the paths of the layout, so a path added there without a row here
 * does not compile; tests that must visit every path (the attack harness) iterate this list.
 */
import type { SandboxPaths } from './layout.js';

export interface EntryFacts {
  kind: 'file' | 'dir';
  /** Holds a secret (the root token, connection passwords), or is a dir whose files do. */
  secret: boolean;
  owner: 'ours' | 'user';
  /** Present only in some set-ups (--auth approle, --tls, --vault-url, --with-airflow). */
  optional: boolean;
  what: string;
}

export type SandboxPathKey = keyof SandboxPaths;

const ENTRY_FACTS = {
  dir: { kind: 'dir', secret: false, owner: 'user', optional: false, what: 'the sandbox directory' },
  config: { kind: 'file', secret: true, owner: 'user', optional: false, what: 'the config file' },
  env: { kind: 'file', secret: true, owner: 'user', optional: false, what: 'the env file' },
  dockerEnv: { kind: 'file', secret: true, owner: 'user', optional: false, what: 'the docker env file' },
  gitignore: { kind: 'file', secret: false, owner: 'user', optional: false, what: '.gitignore' },
  dagsDir: { kind: 'dir', secret: false, owner: 'user', optional: false, what: 'the DAG folder' },
  dag: { kind: 'file', secret: false, owner: 'user', optional: false, what: 'the example DAG' },
  policy: { kind: 'file', secret: false, owner: 'user', optional: true, what: 'the AppRole policy' },
  stateDir: { kind: 'dir', secret: true, owner: 'ours', optional: false, what: "the sandbox's state directory" },
  state: { kind: 'file', secret: false, owner: 'ours', optional: false, what: "the sandbox's state" },
  serverOut: { kind: 'file', secret: true, owner: 'ours', optional: false, what: "the server's banner" },
  serverLog: { kind: 'file', secret: false, owner: 'ours', optional: false, what: "the server's log" },
  written: { kind: 'file', secret: false, owner: 'ours', optional: false, what: 'the written-files record' },
  lock: { kind: 'file', secret: false, owner: 'ours', optional: false, what: 'the lock' },
  home: { kind: 'dir', secret: true, owner: 'ours', optional: false, what: "the server's private HOME" },
  tlsDir: { kind: 'dir', secret: true, owner: 'ours', optional: true, what: "the server's TLS directory" },
  caFile: { kind: 'file', secret: false, owner: 'ours', optional: true, what: "the server's CA" },
  target: { kind: 'file', secret: false, owner: 'ours', optional: true, what: 'the existing-Vault record' },
  airflowHome: { kind: 'dir', secret: false, owner: 'ours', optional: false, what: 'the private AIRFLOW_HOME' },
  venv: { kind: 'dir', secret: false, owner: 'user', optional: true, what: "the sandbox's venv" },
  venvAirflow: { kind: 'file', secret: false, owner: 'user', optional: true, what: "the venv's airflow" },
} as const satisfies Record<SandboxPathKey, EntryFacts>;

export interface SandboxEntry extends EntryFacts {
  key: SandboxPathKey;
  path: string;
}

/** Every path of `paths` with its facts, in the layout's order. */
export function sandboxEntries(paths: SandboxPaths): SandboxEntry[] {
  return (Object.keys(ENTRY_FACTS) as SandboxPathKey[]).map((key) => ({ key, path: paths[key], ...ENTRY_FACTS[key] }));
}

/** The facts of one path of the layout. */
export function entryFacts(key: SandboxPathKey): EntryFacts {
  return ENTRY_FACTS[key];
}
