/**
 * The dev server's own TLS mode (`-dev-tls`, Vault 1.12+ and OpenBao): it generates a CA and a
 * certificate into a directory we choose, so the CA path is stable across restarts (the server
 * writes new files each start and removes them on exit). The directory must exist beforehand.
 */
import { join } from 'node:path';

/** The files `-dev-tls` writes into its cert dir (the same names on Vault and OpenBao). */
export const DEV_TLS_FILES = { ca: 'vault-ca.pem', cert: 'vault-cert.pem', key: 'vault-key.pem' } as const;

/** Names the generated certificate is already valid for (vault.md: localhost variants, the hostname, 127.0.0.1). */
const DEFAULT_SANS = new Set(['localhost', 'localhost4', 'localhost6', 'localhost.localdomain', '127.0.0.1']);

export function devTlsCaFile(certDir: string): string {
  return join(certDir, DEV_TLS_FILES.ca);
}

/** Extra server args for a dev server on `host` serving HTTPS with its certificates in `certDir`. */
export function devTlsArgs(certDir: string, host: string): string[] {
  const args = ['-dev-tls', `-dev-tls-cert-dir=${certDir}`];
  // The certificate must name the host Airflow connects to, or it fails hostname verification.
  if (!DEFAULT_SANS.has(host)) args.push(`-dev-tls-san=${host}`);
  return args;
}
