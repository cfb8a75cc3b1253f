import { defineCheck, ok, warn } from './types.js';

/**
 * VAULT_ADDR / VAULT_TOKEN that say something else than the kwargs: Airflow's VaultBackend uses the
 * kwargs' url and token (the env only when a kwarg is absent), while the vault CLI, bao and a bare
 * hvac.Client() use the env. Two tools, two answers: say which reads which.
 */
export const vaultEnv = defineCheck({
  id: 'vault-env',
  title: 'VAULT_ADDR and VAULT_TOKEN vs the kwargs',
  link: 'config source',
  async run(ctx) {
    const k = ctx.backend.kwargs;
    const origin = (name: string) => (ctx.envFileKeys.has(name) ? ctx.envSource : 'the shell');
    const lines: string[] = [];
    const addr = ctx.env.get('VAULT_ADDR');
    if (typeof k.url === 'string' && addr && addr.replace(/\/+$/, '') !== k.url.replace(/\/+$/, '')) {
      lines.push(
        `VAULT_ADDR (${origin('VAULT_ADDR')}) is ${addr} but the kwargs' url is ${k.url}: Airflow asks ${k.url}; the vault CLI, bao and hvac ask ${addr}`,
      );
    }
    const tok = ctx.env.get('VAULT_TOKEN');
    if (typeof k.token === 'string' && tok && tok !== k.token) {
      lines.push(
        `VAULT_TOKEN (${origin('VAULT_TOKEN')}) is another token than the kwargs' token: Airflow logs in with the kwargs' token; the vault CLI, bao and hvac use VAULT_TOKEN`,
      );
    }
    if (k.auth_type && k.auth_type !== 'token' && tok) {
      lines.push(
        `auth_type is ${String(k.auth_type)}: Airflow logs in with it and ignores VAULT_TOKEN, which only the vault CLI, bao and hvac use`,
      );
    }
    if (!lines.length) return ok('the kwargs and the environment agree (or only one of them is set)');
    return warn(lines.join('; '));
  },
});
