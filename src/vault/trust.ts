/**
 * What a TLS connection trusts when it has no CA of its own, given the launcher's hand-over of
 * NODE_EXTRA_CA_CERTS (bin/create-secrets-sandbox: with the variable set, Node 20 builds its whole
 * root store at start, ~70 ms here, nodejs/node#40524, though most runs speak plain HTTP to
 * loopback). Node's own rule is kept: without a `ca` option a connection trusts the bundled roots
 * plus that file's certificates; with one (VAULT_CACERT, the sandbox's CA) only that CA.
 */
import { readFileSync } from 'node:fs';

export const DEFERRED_EXTRA_CA = 'CREATE_SECRETS_SANDBOX_EXTRA_CA_CERTS';

let deferredFile: string | undefined;
let defaultTrust: string[] | undefined;

/**
 * Puts NODE_EXTRA_CA_CERTS back as the user set it, before any child process is started (they get
 * the user's environment), and remembers the file if Node did not load it. Only the launcher's
 * exact hand-over counts (the variable empty, the value under our name): anything else leaves
 * Node's own handling alone.
 */
export function adoptDeferredExtraCa(env: NodeJS.ProcessEnv = process.env): void {
  const deferred = env[DEFERRED_EXTRA_CA];
  delete env[DEFERRED_EXTRA_CA];
  deferredFile = undefined;
  defaultTrust = undefined;
  if (!deferred || env.NODE_EXTRA_CA_CERTS !== '') return;
  env.NODE_EXTRA_CA_CERTS = deferred;
  deferredFile = deferred;
}

/**
 * The `ca` option for a TLS connection without a CA of its own: undefined (Node's default store)
 * unless the launcher deferred an extra CA file; then Node's bundled roots plus that file, read on
 * first use. An unreadable file is what Node does with it at start: a warning, and the bundled
 * roots alone.
 */
export async function defaultCa(): Promise<string[] | undefined> {
  if (deferredFile === undefined) return undefined;
  if (defaultTrust) return defaultTrust;
  const { rootCertificates } = await import('node:tls');
  let extra: string[] = [];
  try {
    extra = [readFileSync(deferredFile, 'utf8')];
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${deferredFile}\`, load failed: ${(e as Error).message}`);
  }
  defaultTrust = [...rootCertificates, ...extra];
  return defaultTrust;
}
