/**
 * What Airflow's token may read, asked of the server itself (sys/capabilities-self on the exact
 * paths VaultBackend reads). When it may not, the policy text (readable with the sandbox's root
 * token) is judged: the KV v1 form on a KV v2 mount (`secret/connections/*`) is named as such, and
 * the fix is the block that grants the read.
 */
import { secretPath } from '../airflow/backend.js';
import { judgePolicy, kvApiPath, policyLine, readGlob } from '../vault/auth/policy.js';
import { VaultClient } from '../vault/client.js';
import { type Check, fail, ok } from './types.js';

const GRANTS = ['read', 'root', 'sudo'];

export const policy: Check = {
  id: 'policy',
  title: "Airflow's policy",
  needs: ['token'],
  async run(ctx) {
    const mount = ctx.mount ?? 'secret';
    const kv = ctx.kvVersion ?? 2;
    const connBase = ctx.connectionsPath ?? 'connections';
    const varBase = typeof ctx.kwargs?.variables_path === 'string' ? ctx.kwargs.variables_path.replace(/\/+$/, '') : 'variables';
    const probes = [secretPath(connBase, ctx.connIds?.[0] ?? 'any_conn_id'), secretPath(varBase, 'any_key')];
    const apiPaths = probes.map((p) => kvApiPath(mount, p, kv));
    const caps = await ctx.client!.capabilitiesSelf(apiPaths);
    const denied = probes.filter((_, i) => !(caps[apiPaths[i]!] ?? []).some((c) => GRANTS.includes(c)));
    if (denied.length === 0) return ok(`may read ${readGlob(mount, connBase, kv)} and ${readGlob(mount, varBase, kv)}`);

    const info = await ctx.client!.lookupSelf();
    const names = info.policies.filter((p) => p !== 'default' && p !== 'root');
    // The sandbox's own root token may read the policy text; on another Vault, only the paths are said.
    let text = '';
    if (ctx.serverToken && ctx.url) {
      const admin = new VaultClient({ url: ctx.url.origin, token: ctx.serverToken, caFile: ctx.caFile, namespace: ctx.namespace, timeoutMs: 3000 });
      const texts = await admin.policiesText(names).catch(() => ({}) as Record<string, string | null>);
      text = Object.values(texts).filter(Boolean).join('\n');
    }
    const problems: string[] = [];
    const fixes: string[] = [];
    for (const p of denied) {
      const v = text ? judgePolicy(text, mount, p, kv) : null;
      const parent = p.slice(0, p.lastIndexOf('/'));
      problems.push(v?.problem ?? `the token's policies (${names.join(', ') || 'default only'}) do not grant read on ${kvApiPath(mount, p, kv)}`);
      fixes.push((v?.fix ?? policyLine(readGlob(mount, parent, kv))).replace(/\n\s*/g, ' '));
    }
    // The probe ids stand for any id: say so in the message.
    const say = (t: string) => t.split('any_conn_id').join('<conn_id>').split('any_key').join('<key>');
    problems.splice(0, problems.length, ...problems.map(say));
    const where = ctx.paths ? 'in policy.hcl, then rerun the create command' : `in the policy ${names[0] ?? 'bound to the role'}`;
    return fail(`Airflow's token may not read what VaultBackend reads: ${problems.join('; ')}`, `write ${fixes.join(' and ')} ${where}`);
  },
};
