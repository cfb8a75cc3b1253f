/**
 * Why Vault answers Airflow's read with 403, told apart: the path (Airflow reads where the secret is
 * not; a least-privilege token is refused there as anywhere its policy does not reach, and the
 * secret sits where the policy grants) or the policy (the secret is where Airflow reads, and the
 * policy does not grant it, or an explicit deny wins over the grant). Asked with what any token may
 * ask about itself (its resultant ACL, the mounts it may use, reads where its policy reaches) and,
 * when Airflow talks to the sandbox's own server, that server's token; never with a token whose
 * uses are limited (airflowsClient), and only at the address Airflow uses.
 */
import { secretPath } from '../airflow/backend/index.js';
import { POLICY_READ, readUserFileIfExists } from '../io/read.js';
import { POLICY_FILE } from '../sandbox/index.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { authFor, authFromKwargs } from '../vault/auth/index.js';
import { globMatches, judgePolicy, kvApiPath, POLICY_NAME, policyLine, readGlob } from '../vault/auth/policy.js';
import type { MountInfo, ResultantAcl } from '../vault/api.js';
import type { VaultClient } from '../vault/client.js';
import { airflowsClient, serverClient } from './clients.js';
import { kwargsFix, serverCli, toolMade, upFix } from './fixes.js';
import { airflowClient, type CheckInput, type CheckOutcome, fail, namespaceOf } from './types.js';

export type Kind = 'connections' | 'variables';
type Input = CheckInput<'address' | 'token'>;

/** Where VaultBackend reads: the mount, the path under it, the KV version. */
export interface Place {
  mount: string;
  base: string;
  kv: 1 | 2;
}

/** Airflow's token as doctor may use it: a client with it, and the policies it carries. */
export interface TokenView {
  client: VaultClient;
  policies: string[];
}

const named = (policies: string[]) => policies.filter((p) => p !== 'default' && p !== 'root');
const oneLine = (rule: string) => rule.replace(/\s*\n\s*/g, ' ');

/**
 * Airflow's token, for questions about itself: the one the token check found (token auth, or a
 * login doctor made), else, when only Airflow logged in, one login as Airflow logs in (a login
 * spends no token's uses). Undefined when the token's uses are limited or no login works.
 */
export async function tokenView(ctx: Input): Promise<TokenView | undefined> {
  const own = airflowsClient(ctx);
  if (own) return { client: own, policies: ctx.login.policies };
  if (ctx.login.token || ctx.access.authType === 'token') return undefined;
  const spec = authFromKwargs(ctx.backend.kwargs, ctx.env);
  if (typeof spec === 'string') return undefined;
  try {
    const r = await authFor(spec).login(airflowClient(ctx));
    return { client: airflowClient(ctx, r.token), policies: r.policies };
  } catch {
    return undefined;
  }
}

/** The ACL rule that governs `path` (an exact path, else the longest glob), as Vault picks it. */
function ruleFor(acl: ResultantAcl, path: string): { rule: string; caps: string[] } | undefined {
  const exact = acl.exact[path];
  if (exact) return { rule: path, caps: exact };
  const globs = Object.keys(acl.glob)
    .filter((g) => globMatches(`${g}*`, path))
    .sort((a, b) => b.length - a.length);
  const g = globs[0];
  return g !== undefined ? { rule: `${g}*`, caps: acl.glob[g] ?? [] } : undefined;
}

export function deniedBy(acl: ResultantAcl, path: string): string | undefined {
  const r = ruleFor(acl, path);
  return r?.caps.includes('deny') ? r.rule : undefined;
}

function grantsRead(acl: ResultantAcl, path: string): boolean {
  if (acl.root) return true;
  const caps = ruleFor(acl, path)?.caps ?? [];
  return !caps.includes('deny') && (caps.includes('read') || caps.includes('sudo'));
}

/**
 * The places the token's policy lets it read, as VaultBackend settings: each rule that grants read
 * under a KV mount the token may use, turned back into mount, path and KV version; and where
 * Airflow reads, in the mount's own KV version when kv_engine_version says the other one.
 */
export function grantedPlaces(acl: ResultantAcl, mounts: Record<string, MountInfo>, at: Place): Place[] {
  const out: Place[] = [];
  const add = (p: Place) => {
    const same = (q: Place) => q.mount === p.mount && q.base === p.base && q.kv === p.kv;
    if (!same(at) && !out.some(same)) out.push(p);
  };
  const own = mounts[at.mount];
  if (own?.kvVersion && own.kvVersion !== at.kv) add({ ...at, kv: own.kvVersion });
  const rules = [
    ...Object.entries(acl.glob).map(([g, caps]) => ({ dir: g.replace(/\/+$/, ''), caps })),
    ...Object.entries(acl.exact).map(([p, caps]) => ({ dir: p.slice(0, Math.max(0, p.lastIndexOf('/'))), caps })),
  ];
  for (const { dir, caps } of rules) {
    if (caps.includes('deny') || !(caps.includes('read') || caps.includes('sudo'))) continue;
    for (const m of Object.values(mounts)) {
      if (!m.kvVersion || !`${dir}/`.startsWith(`${m.path}/`)) continue;
      const rest = dir.slice(m.path.length + 1);
      if (m.kvVersion === 1) add({ mount: m.path, base: rest, kv: 1 });
      else if (rest === 'data' || rest.startsWith('data/')) add({ mount: m.path, base: rest.slice(5), kv: 2 });
    }
  }
  // Closest first: the same path on another mount or version, then the same mount.
  const score = (p: Place) => (p.base === at.base ? 0 : p.mount === at.mount ? 1 : 2);
  return out.sort((a, b) => score(a) - score(b)).slice(0, 8);
}

/** The kwargs that point VaultBackend at `to` instead of `from`. */
export function pointAt(ctx: Input, kind: Kind, from: Place, to: Place): string {
  const ops: Record<string, { set: unknown }> = {};
  if (to.mount !== from.mount) ops.mount_point = { set: to.mount };
  if (to.base !== from.base) ops[`${kind}_path`] = { set: to.base };
  if (to.kv !== from.kv) ops.kv_engine_version = { set: to.kv };
  return kwargsFix(ctx, ops);
}

/** With Airflow's token: the first place its policy grants that holds `id`. */
async function foundWhereGranted(view: TokenView, acl: ResultantAcl, at: Place, id: string) {
  const mounts = await view.client.visibleMounts().catch(() => ({}) as Record<string, MountInfo>);
  for (const p of grantedPlaces(acl, mounts, at)) {
    const data = await view.client.readSecret(p.mount, secretPath(p.base, id), p.kv).catch(() => null);
    if (data) return p;
  }
  return undefined;
}

/** The token's own namespace, when the kwargs name another and the id is there. */
async function inTokensNamespace(ctx: Input, view: TokenView, at: Place, id: string) {
  const ns = await view.client
    .lookupSelf()
    .then((i) => i.namespacePath)
    .catch(() => undefined);
  if (ns === undefined || ns === (namespaceOf(ctx.kwargs) ?? '')) return undefined;
  const data = await view.client
    .withNamespace(ns || undefined)
    .readSecret(at.mount, secretPath(at.base, id), at.kv)
    .catch(() => null);
  if (!data) return undefined;
  return { ns, fix: kwargsFix(ctx, { namespace: ns ? { set: ns } : { remove: true } }) };
}

/** Where the sandbox put what Airflow misses, when that is elsewhere than where Airflow reads. */
function seededElsewhere(ctx: Input, kind: Kind, at: Place): string | undefined {
  const v = ctx.config?.vault;
  if (!ctx.sandbox || !v) return undefined;
  const seeded: Place = {
    mount: v.mount ?? 'secret',
    base: (kind === 'connections' ? v.connections_path : v.variables_path) ?? kind,
    kv: at.kv,
  };
  return seeded.mount !== at.mount || seeded.base !== at.base ? pointAt(ctx, kind, at, seeded) : undefined;
}

/** With the server's own token: the folder under the mount that holds the id, one level down. */
async function foundUnder(admin: VaultClient, at: Place, id: string): Promise<string | undefined> {
  const top = await admin.listSecrets(at.mount, '', at.kv).catch(() => [] as string[]);
  const folders = ['', ...top.filter((k) => k.endsWith('/')).map((k) => k.replace(/\/$/, ''))].slice(0, 50);
  for (const f of folders) {
    if (f === at.base) continue;
    const data = await admin.readSecret(at.mount, secretPath(f, id), at.kv).catch(() => null);
    if (data) return f;
  }
  return undefined;
}

/**
 * With Airflow's token, where else the id is, as close to where Airflow reads as can be: another
 * folder of the same mount, the path without the mount repeated in it, another KV mount the token
 * may use, then the same place in another namespace. Each is a place the token itself reads.
 */
async function foundByToken(
  ctx: Input,
  view: TokenView,
  kind: Kind,
  at: Place,
  id: string,
): Promise<string | undefined> {
  const c = view.client;
  const folder = await foundUnder(c, at, id);
  if (folder !== undefined) return kwargsFix(ctx, { [`${kind}_path`]: { set: folder } });
  const bases = [
    ...new Set([at.base, at.base.startsWith(`${at.mount}/`) ? at.base.slice(at.mount.length + 1) : at.base]),
  ];
  const mounts = await c.visibleMounts().catch(() => ({}) as Record<string, MountInfo>);
  for (const m of [mounts[at.mount], ...Object.values(mounts).filter((x) => x.path !== at.mount)].slice(0, 8)) {
    if (!m?.kvVersion) continue;
    for (const base of bases) {
      const to: Place = { mount: m.path, base, kv: m.kvVersion };
      if (to.mount === at.mount && to.base === at.base && to.kv === at.kv) continue;
      if (await c.readSecret(to.mount, secretPath(base, id), to.kv).catch(() => null))
        return pointAt(ctx, kind, at, to);
    }
  }
  const ns = namespaceOf(ctx.kwargs);
  const top = await c
    .withNamespace(undefined)
    .listNamespaces()
    .catch(() => [] as string[]);
  for (const other of [...(ns ? [undefined] : []), ...top.filter((n) => n !== ns).slice(0, 20)]) {
    const there = await c
      .withNamespace(other)
      .readSecret(at.mount, secretPath(at.base, id), at.kv)
      .catch(() => null);
    if (there) return kwargsFix(ctx, { namespace: other === undefined ? { remove: true } : { set: other } });
  }
  return undefined;
}

/** The fix for an id nothing holds where Airflow reads. */
export async function missFix(ctx: Input, kind: Kind, at: Place, id: string): Promise<string | undefined> {
  const elsewhere = seededElsewhere(ctx, kind, at);
  if (elsewhere) return elsewhere;
  const admin = serverClient(ctx);
  const folder = admin ? await foundUnder(admin, at, id) : undefined;
  if (folder !== undefined) return kwargsFix(ctx, { [`${kind}_path`]: { set: folder } });
  const up = upFix(ctx);
  if (up) return up;
  const view = await tokenView(ctx);
  return view ? foundByToken(ctx, view, kind, at, id) : undefined;
}

/** `bin policy read` piped through `edit` into `bin policy write`, for each policy; never writes an empty policy. */
function rewritePolicies(ctx: Input, names: string[], edit: string): string {
  const bin = serverCli(ctx);
  const addr = `-address=${shellArg(ctx.access.url)}`;
  const one = (n: string) =>
    `p=$(${bin} policy read ${addr} ${n}) && printf '%s\\n' "$p" | ${edit} | ${bin} policy write ${addr} ${n} -`;
  if (names.length === 1) return one(shellArg(names[0] ?? ''));
  return `for n in ${names.map(shellArg).join(' ')}; do ${one('"$n"')}; done`;
}

/** A perl filter that drops the `path "<rule>" { ... }` block (from `file` in place, when given). */
function dropRule(rule: string, file?: string): string {
  const quoted = rule.replace(/[^A-Za-z0-9_]/g, '\\$&');
  return `perl -0p${file ? 'i' : ''}e ${shellArg(`s~\\n*path\\s+"${quoted}"\\s*\\{[^}]*\\}\\n?~\\n~g`)}${file ? ` ${shellArg(file)}` : ''}`;
}

/**
 * The read rule Airflow's policy lacks, as a step that lasts. A sandbox this tool made writes its
 * policy from policy.hcl on every run (a policy changed in Vault is undone by the next, and a
 * login's .env holds no token that may write policies): when policy.hcl grants the read, the rerun
 * puts it back; else the rule is added to policy.hcl, and the rerun writes it. Elsewhere, a command
 * that adds the rule to the token's own policy (run with a token that may write policies).
 */
export function policyFix(
  ctx: Pick<Input, 'sandbox' | 'login' | 'env' | 'access'>,
  at: Place,
  id = 'x',
  policies: string[] = ctx.login.policies,
): string {
  const rule = policyLine(readGlob(at.mount, at.base, at.kv));
  const sb = toolMade(ctx);
  if (sb && policies.includes(POLICY_NAME)) {
    const rerun = `${selfCommand()} up ${shellArg(sb.dir)}`;
    const hcl = readUserFileIfExists(sb.paths.policy, POLICY_READ);
    if (hcl !== null && judgePolicy(hcl, at.mount, secretPath(at.base, id), at.kv).grants)
      return `${rerun}  # writes ${POLICY_FILE}, which grants the read, back to Vault`;
    return `printf '\\n%s\\n' ${shellArg(oneLine(rule))} >> ${shellArg(sb.paths.policy)} && ${rerun}  # the rerun writes ${POLICY_FILE} to Vault`;
  }
  // A token's policies are fixed when it is made: the rule must go into one it carries, `default`
  // itself when that is all it has (every token carries it: fine on a sandbox server, said so).
  const own = named(policies)[0];
  const name = own ?? (policies.includes('default') ? 'default' : 'airflow');
  const bin = serverCli(ctx);
  const addr = `-address=${shellArg(ctx.access.url)}`;
  const note =
    own === undefined && name === 'default' ? "  # the token's only policy is default, which every token carries" : '';
  // The rule as printf's argument, not its format: a '%' in a path stays a '%'.
  return `{ ${bin} policy read ${addr} ${shellArg(name)} 2>/dev/null; printf '\\n%s\\n' ${shellArg(oneLine(rule))}; } | ${bin} policy write ${addr} ${shellArg(name)} -${note}`;
}

/** The deny rule removed from the policy that holds it (policy.hcl first, in a sandbox this tool made). */
async function undenyFix(ctx: Input, view: TokenView, rule: string): Promise<string> {
  const sb = toolMade(ctx);
  if (sb && view.policies.includes(POLICY_NAME)) {
    const rerun = `${selfCommand()} up ${shellArg(sb.dir)}`;
    const hcl = readUserFileIfExists(sb.paths.policy, POLICY_READ) ?? '';
    if (!hcl.includes(`"${rule}"`)) return `${rerun}  # writes ${POLICY_FILE}, which has no deny, back to Vault`;
    return `${dropRule(rule, sb.paths.policy)} && ${rerun}`;
  }
  const admin = serverClient(ctx);
  let holders = named(view.policies);
  if (admin) {
    const texts = await Promise.all(holders.map((n) => admin.readPolicy(n).catch(() => null)));
    const found = holders.filter((_, i) => texts[i]?.includes(`"${rule}"`));
    if (found.length) holders = found;
  }
  return rewritePolicies(ctx, holders.length ? holders : ['default'], dropRule(rule));
}

async function policyHint(ctx: Input, at: Place, policies: string[]): Promise<string> {
  const glob = readGlob(at.mount, at.base, at.kv);
  const admin = serverClient(ctx);
  let written = '';
  if (admin) {
    for (const n of named(policies)) {
      const text = await admin.readPolicy(n).catch(() => null);
      const wrongGlob = `${at.mount}/${at.base}/*`;
      if (text && at.kv === 2 && text.includes(`"${wrongGlob}"`))
        written = ` Policy '${n}' grants "${wrongGlob}", but on KV v2 the API path is ${kvApiPath(at.mount, at.base, at.kv)}/<id>, so it grants nothing there.`;
    }
  }
  return `${written} Needed: ${oneLine(policyLine(glob))}`;
}

/**
 * A 403 on the read of `ids` at `at`. `apiPaths`: the paths Airflow's requests went to, when
 * Airflow was asked (what Vault judged, whatever doctor would compute).
 */
export async function refusedRead(
  ctx: Input,
  kind: Kind,
  at: Place,
  ids: string[],
  apiPaths: string[] = [],
): Promise<CheckOutcome> {
  const paths = ids.map((id) => `${at.mount}/${secretPath(at.base, id)}`);
  const asked = ids.map((id, i) => apiPaths[i] ?? kvApiPath(at.mount, secretPath(at.base, id), at.kv));
  const view = await tokenView(ctx);
  const acl = view ? await view.client.resultantAcl().catch(() => undefined) : undefined;
  const policies = view?.policies.length ? view.policies : ctx.login.policies;
  const deny = acl && asked.map((p) => deniedBy(acl, p)).find((r) => r !== undefined);
  if (view && deny)
    return {
      ...fail(
        `Airflow's token is denied ${asked.join(', ')}: the rule path "${deny}" { capabilities = ["deny"] } in its policies (${named(policies).join(', ') || 'default'}) wins over every grant`,
        await undenyFix(ctx, view, deny),
      ),
      link: 'policy',
    };
  const first = ids[0] ?? '';
  const admin = serverClient(ctx);
  const there = admin
    ? (
        await Promise.all(ids.map((id) => admin.readSecret(at.mount, secretPath(at.base, id), at.kv).catch(() => null)))
      ).some(Boolean)
    : undefined;
  const nothing = `nothing at ${paths.join(', ')} (mount '${at.mount}', ${kind}_path '${at.base}', KV v${at.kv})`;
  if (there !== true && view && acl && !asked.some((p) => grantsRead(acl, p))) {
    const to = await foundWhereGranted(view, acl, at, first);
    if (to)
      return {
        ...fail(
          `Airflow reads ${asked.join(', ')}, which its token's policy does not grant (403), but ${first} is at ${to.mount}/${secretPath(to.base, first)} (KV v${to.kv}), which it does: the settings point Airflow at the wrong place`,
          pointAt(ctx, kind, at, to),
        ),
        link: 'mount and path',
      };
  }
  const home = there === true || !view ? undefined : await inTokensNamespace(ctx, view, at, first);
  if (home)
    return {
      ...fail(
        `Airflow's token belongs to namespace '${home.ns || '(root)'}', where ${first} is, but the kwargs send Airflow's requests to '${namespaceOf(ctx.kwargs) ?? '(root)'}', where its policy grants nothing (403)`,
        home.fix,
      ),
      link: 'mount and path',
    };
  if (there === false)
    return {
      ...fail(
        `${nothing}; Vault answers Airflow's token 403 there, as it does for any path its policy does not grant`,
        await missFix(ctx, kind, at, first),
      ),
      link: 'mount and path',
    };
  const hint = await policyHint(ctx, at, policies);
  return {
    ...fail(
      `Airflow's token may not read ${paths.join(', ')} (HTTP 403: its policies ${policies.join(', ') || 'none'} do not grant read there).${hint}`,
      policyFix(ctx, at, first, policies),
    ),
    link: 'policy',
  };
}
