import { isLoopback } from '../vault/address.js';
import { VaultClient } from '../vault/client.js';
import { type Check, fail, ok, warn } from './types.js';

export const address: Check = {
  id: 'address',
  title: 'Vault address',
  async run(ctx) {
    const fromKwargs = typeof ctx.kwargs?.url === 'string' ? ctx.kwargs.url : undefined;
    const raw = fromKwargs ?? ctx.env.get('VAULT_ADDR') ?? ctx.env.get('BAO_ADDR');
    const source = fromKwargs ? `url in AIRFLOW__SECRETS__BACKEND_KWARGS (${ctx.envSource})` : ctx.env.get('VAULT_ADDR') ? `VAULT_ADDR (${ctx.envSource})` : `BAO_ADDR (${ctx.envSource})`;
    if (!raw) {
      return fail('no Vault address: neither a url in AIRFLOW__SECRETS__BACKEND_KWARGS nor VAULT_ADDR is set', "export VAULT_ADDR='http://127.0.0.1:8200' (or run create-secrets-sandbox)");
    }
    let url: URL;
    try {
      url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return fail(`${source} is '${raw}', which is not an http:// or https:// URL`, `write it as http://127.0.0.1:8200`);
    }
    if (url.pathname !== '/' && url.pathname !== '') {
      return fail(`${source} '${raw}' has a path; hvac appends /v1/... to it`, `use just the origin: ${url.origin}`);
    }
    ctx.url = url;
    // The CA and namespace Airflow will use: `verify` (a path) or VAULT_CACERT, and `namespace` or VAULT_NAMESPACE.
    const verify = ctx.kwargs?.verify;
    ctx.caFile = typeof verify === 'string' ? verify : verify === undefined ? ctx.env.get('VAULT_CACERT') : undefined;
    ctx.namespace = typeof ctx.kwargs?.namespace === 'string' ? ctx.kwargs.namespace : ctx.env.get('VAULT_NAMESPACE');
    ctx.client = new VaultClient({ url: url.origin, token: ctx.token, timeoutMs: 3000, caFile: ctx.caFile, namespace: ctx.namespace });
    if (!isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) {
      return warn(`${url.origin} (from ${source}) is not on loopback`, 'a dev server should listen on 127.0.0.1 only');
    }
    return ok(`${url.origin} (from ${source})`);
  },
};
