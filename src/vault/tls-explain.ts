/**
 * TLS and scheme failures in words, from the client's error kinds (node's TLS codes), never from
 * message text: shared by the create flow's check and doctor.
 */
import type { VaultError } from './client.js';

export interface TlsExplanation {
  problem: string;
  fix: string;
}

export function describeVaultFailure(e: VaultError, url: string, caFile: string | undefined): TlsExplanation | null {
  let host = url;
  try {
    host = new URL(url).hostname;
  } catch {
    /* keep the url as given */
  }
  switch (e.kind) {
    case 'tls-untrusted':
      return caFile
        ? {
            problem: `the server's certificate is not signed by the CA in ${caFile} (${e.code})`,
            fix: `point verify (and VAULT_CACERT) at the CA that signed the server's certificate; for the sandbox's own --tls server that is the CA its .env names (VAULT_CACERT), rewritten at each start: rerun the create command`,
          }
        : {
            problem: `the server's certificate is not signed by a CA this machine trusts (${e.code})`,
            fix: `give Airflow the CA: "verify": "/path/to/ca.pem" in AIRFLOW__SECRETS__BACKEND_KWARGS and VAULT_CACERT=/path/to/ca.pem (--ca-cert FILE does both)`,
          };
    case 'tls-hostname':
      return {
        problem: `the server's certificate is not valid for the host name '${host}' (${e.code})`,
        fix: `use a url with a name the certificate lists (e.g. https://localhost or https://127.0.0.1 for the sandbox), or reissue the certificate with '${host}' among its names`,
      };
    case 'tls-expired':
      return {
        problem: `the server's certificate is outside its validity period (${e.code})`,
        fix: 'renew the certificate (the sandbox makes a new one each time it starts: run `up`), and check the clock',
      };
    case 'ca-file':
      return {
        problem: `the CA file ${caFile} cannot be read (${e.code})`,
        fix: 'point verify and VAULT_CACERT at an existing PEM file (the sandbox writes its own while its server runs)',
      };
    case 'scheme':
      return url.startsWith('https:')
        ? {
            problem: `${url} is https, but the server speaks plain HTTP`,
            fix: `use http:// in url and VAULT_ADDR, or start the server with TLS (--tls)`,
          }
        : {
            problem: `${url} is http, but the server speaks HTTPS`,
            fix: `use https:// in url and VAULT_ADDR, with verify and VAULT_CACERT pointing at its CA`,
          };
    case 'tls':
      return {
        problem: `the TLS handshake with ${host} failed (${e.code})`,
        fix: 'check that the url points at the Vault listener and that its TLS settings match',
      };
    default:
      return null;
  }
}
