/** Where a sandbox keeps its files, and the server state record in `.sandbox/state.json`. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Flavour } from './vault/binary.js';
import { writeFileAtomic } from './files.js';

export interface SandboxPaths {
  dir: string;
  config: string;
  env: string;
  dockerEnv: string;
  gitignore: string;
  stateDir: string;
  state: string;
  /** The server's stdout: the banner, with the root token (0600). */
  serverOut: string;
  /** The server's stderr: its log. */
  serverLog: string;
  /** Hashes of the files this tool wrote last, to tell our files from the user's edits. */
  written: string;
}

export const CONFIG_FILE = 'secrets-sandbox.yaml';

export function sandboxPaths(dir: string): SandboxPaths {
  const stateDir = join(dir, '.sandbox');
  return {
    dir,
    config: join(dir, CONFIG_FILE),
    env: join(dir, '.env'),
    dockerEnv: join(dir, 'docker.env'),
    gitignore: join(dir, '.gitignore'),
    stateDir,
    state: join(stateDir, 'state.json'),
    serverOut: join(stateDir, 'server.out'),
    serverLog: join(stateDir, 'server.log'),
    written: join(stateDir, 'written.json'),
  };
}

export interface ServerState {
  pid: number;
  address: string;
  url: string;
  flavour: Flavour;
  version: string;
  bin: string;
  /** Size and mtime of the binary, so its identity can be reused while it is unchanged. */
  binStamp?: string;
  startedAt: string;
  /** Whether the root token was chosen by the user (--root-token) or made by the server. */
  tokenSource: 'server' | 'user';
}

export function readState(paths: SandboxPaths): ServerState | null {
  if (!existsSync(paths.state)) return null;
  try {
    const s = JSON.parse(readFileSync(paths.state, 'utf8')) as Partial<ServerState>;
    if (typeof s.pid !== 'number' || typeof s.address !== 'string') return null;
    return s as ServerState;
  } catch {
    return null;
  }
}

export function writeState(paths: SandboxPaths, state: ServerState): void {
  writeFileAtomic(paths.state, JSON.stringify(state, null, 2) + '\n', 0o600);
}
