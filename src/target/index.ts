/**
 * The Vault a sandbox uses: a dev server the tool starts and owns, or an existing one (the team's
 * Vault) given by URL, CA and namespace, where nothing is started, mounted or stopped. Commands ask
 * the target, never "is this a dev server", what they may do.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../io/private.js';
import { MAX_RECORD_BYTES, readUserFileIfExists } from '../io/read.js';
import { VaultClient } from '../vault/client.js';

interface TargetBase {
  /** Base URL, http(s)://host:port */
  url: string;
  /** PEM CA to trust for https (the dev server's generated CA, or --ca-cert). */
  caFile?: string;
  /** Vault namespace for every request (X-Vault-Namespace), or none. */
  namespace?: string;
}

export interface DevTarget extends TargetBase {
  kind: 'dev';
}

export interface ExistingTarget extends TargetBase {
  kind: 'existing';
}

export type Target = DevTarget | ExistingTarget;

export function devTarget(url: string, caFile?: string): DevTarget {
  return { kind: 'dev', url, ...(caFile ? { caFile } : {}) };
}

export function existingTarget(url: string, opts: { caFile?: string; namespace?: string } = {}): ExistingTarget {
  const t: ExistingTarget = { kind: 'existing', url };
  if (opts.caFile) t.caFile = opts.caFile;
  const ns = opts.namespace?.replace(/^\/+|\/+$/g, '');
  if (ns) t.namespace = ns;
  return t;
}

/** True when the tool started this server and may stop, restart, mount and write there without asking. */
export function manages(t: Target): boolean {
  return t.kind === 'dev';
}

/** A client for the target (CA and namespace applied), with `token` when given. */
export function clientFor(t: Target, token?: string, timeoutMs?: number): VaultClient {
  return new VaultClient({ url: t.url, token, caFile: t.caFile, namespace: t.namespace, timeoutMs });
}

/** One line for messages: what it is and whether the tool manages it. */
export function describeTarget(t: Target): string {
  const extra = [t.caFile ? `CA ${t.caFile}` : '', t.namespace ? `namespace ${t.namespace}` : '']
    .filter(Boolean)
    .join(', ');
  const what = t.kind === 'dev' ? 'the sandbox dev server' : 'an existing Vault (not started or managed by this tool)';
  return `${what} at ${t.url}${extra ? ` (${extra})` : ''}`;
}

/**
 * The record of an existing Vault this sandbox uses (its `target` path), so that status, down
 * and up can say plainly that they do not manage it. A sandbox with its own dev server has none.
 */
export interface TargetRecord {
  kind: 'existing';
  url: string;
  caFile?: string;
  namespace?: string;
}

/** `file` is the sandbox's target record (src/sandbox/layout.ts). */
export function writeTargetRecord(file: string, t: Target | undefined): void {
  if (!t || t.kind === 'dev') {
    rmSync(file, { force: true });
    return;
  }
  ensurePrivateDir(dirname(file));
  const rec: TargetRecord = {
    kind: 'existing',
    url: t.url,
    ...(t.caFile ? { caFile: t.caFile } : {}),
    ...(t.namespace ? { namespace: t.namespace } : {}),
  };
  writePrivateFile(file, JSON.stringify(rec, null, 2) + '\n', 0o600);
}

export function readTargetRecord(file: string): TargetRecord | null {
  const text = readUserFileIfExists(file, {
    what: "the sandbox's target record",
    maxBytes: MAX_RECORD_BYTES,
    ownerCheck: true,
    noFollow: true,
    fix: `remove '${file}' and rerun`,
  });
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as TargetRecord;
    return v && v.kind === 'existing' && typeof v.url === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** What status, down and up say about a server they did not start. */
export function notManaged(r: TargetRecord): string {
  return `this sandbox uses an existing Vault at ${r.url}${r.namespace ? ` (namespace ${r.namespace})` : ''}: this tool did not start it and does not stop, restart or manage it`;
}
