/**
 * Which entries of a sandbox the trust boundary (src/io/trust.ts) checks before a command reads it:
 * the directory, the config (also a --config file elsewhere), `.sandbox/` and its state, the env
 * files, the venv's airflow and the DAG folder. The records come first, so the links recorded at
 * creation (facts.links) can judge the rest.
 */
import { join } from 'node:path';
import { assertTrusted, recordLinks, type TrustEntry } from './io/trust.js';
import { DAG_FILE, readFacts, type SandboxPaths } from './sandbox.js';

export interface TrustInput {
  /** The config file this run reads (--config, the remembered one, or the sandbox's own). */
  configFile?: string;
  /** The DAG folder (airflow.dags_dir), when the config has been read. */
  dagsDir?: string;
}

function recordEntries(paths: SandboxPaths): TrustEntry[] {
  return [
    { path: paths.dir, what: 'the sandbox directory', kind: 'dir' },
    { path: paths.stateDir, what: "the sandbox's state directory", kind: 'dir' },
    { path: paths.state, what: "the sandbox's state", kind: 'file' },
  ];
}

/** Every entry checked, records first. */
export function sandboxTrustEntries(paths: SandboxPaths, o: TrustInput = {}): TrustEntry[] {
  const venv = join(paths.dir, '.venv');
  const dags = o.dagsDir ?? join(paths.dir, 'dags');
  return [
    ...recordEntries(paths),
    { path: o.configFile ?? paths.config, what: 'config file', kind: 'file' },
    ...(o.configFile && o.configFile !== paths.config
      ? [{ path: paths.config, what: 'config file', kind: 'file' as const }]
      : []),
    { path: paths.env, what: 'the env file', kind: 'file' },
    { path: paths.dockerEnv, what: 'the docker env file', kind: 'file' },
    { path: paths.gitignore, what: '.gitignore', kind: 'file' },
    { path: venv, what: "the sandbox's venv", kind: 'dir' },
    { path: join(venv, 'bin'), what: "the sandbox's venv", kind: 'dir' },
    { path: join(venv, 'bin', 'airflow'), what: "the venv's airflow", kind: 'file' },
    { path: dags, what: 'the DAG folder', kind: 'dir' },
    { path: join(dags, DAG_FILE), what: 'the example DAG', kind: 'file' },
  ];
}

/**
 * Refuses (exit 2, naming the path and its owner) a sandbox another user controls, before anything
 * of it is read, run or sent anywhere.
 */
export function assertSandboxTrusted(paths: SandboxPaths, o: TrustInput = {}, env = process.env): void {
  assertTrusted(recordEntries(paths), { sandboxDir: paths.dir, env });
  const links = readFacts(paths).facts.links;
  assertTrusted(sandboxTrustEntries(paths, o), { sandboxDir: paths.dir, links, env });
}

/** The links leaving the sandbox now, recorded with its facts when it is created. */
export function sandboxLinks(paths: SandboxPaths, o: TrustInput = {}): Record<string, string> {
  return recordLinks(paths.dir, sandboxTrustEntries(paths, o));
}
