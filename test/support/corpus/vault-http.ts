/**
 * The corpus's own way to set up Vault state: plain HTTP(S) requests with the root token, the way a
 * user's `bao write ...` would, but without a process per call. Independent of src/vault/client.ts
 * on purpose: the corpus must not build its set-ups with the code it judges.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface VaultReply {
  status: number;
  body: Record<string, unknown> | undefined;
}

export interface VaultTarget {
  url: string;
  token: string;
  /** PEM of the CA that signed the server's certificate (-dev-tls). */
  ca?: string;
}

export function vaultCall(
  t: VaultTarget,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string; namespace?: string } = {},
): Promise<VaultReply> {
  const u = new URL(`/v1/${path.replace(/^\/+/, '')}`, t.url);
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {};
  const token = opts.token ?? t.token;
  if (token) headers['X-Vault-Token'] = token;
  if (opts.namespace) headers['X-Vault-Namespace'] = opts.namespace;
  if (data !== undefined) headers['Content-Type'] = 'application/json';
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method, headers, ca: t.ca, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        } catch {
          parsed = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${u.pathname}: timed out`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A call that must succeed (2xx); the set-up is broken otherwise, which is the corpus's bug, not doctor's. */
export async function vaultOk(
  t: VaultTarget,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string; namespace?: string } = {},
): Promise<Record<string, unknown> | undefined> {
  const r = await vaultCall(t, method, path, body, opts);
  if (r.status < 200 || r.status > 299)
    throw new Error(`corpus set-up: ${method} ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

/** `data.<key>` of a reply, as a string. */
export function field(body: Record<string, unknown> | undefined, key: string): string {
  const data = (body?.data ?? body?.auth) as Record<string, unknown> | undefined;
  const v = data?.[key];
  if (typeof v !== 'string') throw new Error(`corpus set-up: no ${key} in ${JSON.stringify(body).slice(0, 300)}`);
  return v;
}
