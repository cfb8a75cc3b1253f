/**
 * The kwargs VaultBackend is built with. What the provider raises while building it (a missing
 * role_id, kv_engine_version "2", an unknown auth_type) and a key hvac.Client refuses are proven
 * from the provider's own rules (src/airflow/backend/provider.ts). Kwargs Airflow drops (not JSON,
 * not an object) are a warning while its defaults work, and the broken link when they do not.
 */
import { shellArg } from '../ui/invocation.js';
import {
  CONTRIB_KWARGS,
  constructionError,
  isAuthType,
  missingAuthKey,
  PROVIDER_KWARGS,
  pyTruthy,
  type BackendRead,
} from '../airflow/backend/index.js';
import { jsonSyntaxError } from '../io/parse.js';
import { ENV_READ, readUserFileIfExists } from '../io/read.js';
import { envVarFix, kwargsFix, reloadEnv, upFix, YOUR_KWARGS, YOUR_TOKEN, yourCredential } from './fixes.js';
import { type CheckInput, type CheckOutcome, defineCheck, fail, ok, warn } from './types.js';

/** The kwargs line as written in the env file (before bash read it), when it is there. */
function writtenLine(file: string, name: string): string | undefined {
  const text = readUserFileIfExists(file, ENV_READ);
  const m = text === null ? null : new RegExp(`^(?:export\\s+)?${name}=(.*)$`, 'm').exec(text);
  return m?.[1]?.trim();
}

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** A command that rewrites the kwargs line of an env file with `expr` (Python, over `v`: the value bash read). */
function rewriteLine(name: string, file: string, expr: string): string {
  return `python3 -c 'import ast,json,os,re,sys; f=sys.argv[1]; v=os.environ["${name}"]; v=json.dumps(${expr}); t=open(f).read(); open(f,"w").write(re.sub(r"(?m)^(export\\s+)?${name}=.*$", lambda m: (m.group(1) or "")+"${name}=\\x27"+v+"\\x27", t))' ${shellArg(file)}`;
}

/** A one-item list holding the object: the object is what was meant. */
function wrappedObject(text: string | undefined): boolean {
  try {
    const v: unknown = JSON.parse(text ?? '');
    return Array.isArray(v) && v.length === 1 && isJsonObject(JSON.stringify(v[0]));
  } catch {
    return false;
  }
}

/**
 * How to make dropped kwargs JSON again, as a command: quote a JSON object bash stripped of its
 * quotes; turn a Python dict into JSON with Python's own reader; take the object out of a list
 * around it; else let the sandbox write its .env again, or, for kwargs only their owner knows,
 * the line with theirs in the placeholder's place.
 */
function droppedFix(ctx: CheckInput): string {
  const src = ctx.backend.kwargsSource;
  const file = src?.kind === 'env' && src.origin === 'env-file' ? src.file : undefined;
  const name = src?.name ?? 'AIRFLOW__SECRETS__BACKEND_KWARGS';
  const line = file ? writtenLine(file, name) : undefined;
  const reload = file ? ` && ${reloadEnv(file).replace(/; /g, ' && ')}` : '';
  // `[ \t]*$`, not `\s*$`: the line's newline stays, or the next line would join it.
  if (file && line && isJsonObject(line))
    return `perl -pi -e 's/^((?:export\\s+)?${name}=)(\\{.*\\})[ \\t]*$/$1\\x27$2\\x27/' ${shellArg(file)}${reload}  # bash dropped the JSON's quotes: single-quote it`;
  if (file && ctx.kwargsRaw?.trimStart().startsWith("{'"))
    return `${rewriteLine(name, file, 'ast.literal_eval(v)')}${reload}  # a Python dict, written as JSON`;
  if (file && wrappedObject(ctx.kwargsRaw))
    return `${rewriteLine(name, file, 'json.loads(v)[0]')}${reload}  # the object, not a list around it`;
  const up = upFix(ctx);
  if (up) return up;
  return `${envVarFix(ctx, name, YOUR_KWARGS)}  # a JSON object: double quotes, null/true/false`;
}

/** Kwargs the user wrote that Airflow drops with a warning, building VaultBackend with its defaults. */
function dropped(ctx: CheckInput, read: BackendRead): CheckOutcome | undefined {
  const p = read.problems.find((x) => x.kind === 'kwargs-not-json' || x.kind === 'kwargs-not-object');
  if (!p) return undefined;
  const raw = ctx.kwargsRaw ?? '';
  const bad = p.kind === 'kwargs-not-json' ? jsonSyntaxError(raw) : undefined;
  const why = bad
    ? `not valid JSON (at character ${bad.offset + 1}: ${bad.reason})`
    : 'a JSON value, but not an object';
  return {
    ...warn(
      `${ctx.kwargsSource} is ${why}: Airflow logs a warning and builds VaultBackend with no kwargs at all (url from VAULT_ADDR, token from VAULT_TOKEN, mount_point secret, connections_path connections)`,
      droppedFix(ctx),
    ),
    suspect: true,
  };
}

export const backendKwargs = defineCheck({
  id: 'backend-kwargs',
  title: 'Secrets backend kwargs',
  link: 'kwargs',
  verdict: true,
  repair: true,
  async run(ctx) {
    const read = ctx.backend;
    const drop = dropped(ctx, read);
    if (drop) return drop;
    const k = read.kwargs;
    const major = ctx.airflow?.major ?? ctx.intendedAirflow?.major;
    if (read.kwargsText === undefined && !Object.keys(k).length) {
      const outcome = warn(
        'not set: VaultBackend uses its defaults (url from VAULT_ADDR, token from VAULT_TOKEN, mount_point secret, connections_path connections)',
        upFix(ctx),
      );
      return ctx.sandbox ? { ...outcome, suspect: true } : outcome;
    }
    const allowed = major === '1.10' ? CONTRIB_KWARGS : PROVIDER_KWARGS;
    const unknown = Object.keys(k).filter((key) => !allowed.includes(key));
    if (unknown.length)
      return fail(
        `unknown key(s) ${unknown.join(', ')} (${unknown.map((u) => (read.keySources[u] ? describeKey(ctx, u) : u)).join('; ')}): VaultBackend hands them to hvac.Client, which raises TypeError on every lookup`,
        kwargsFix(ctx, Object.fromEntries(unknown.map((u) => [u, { remove: true as const }]))),
      );
    if (major !== '1.10') {
      const built = constructionError(k, ctx.env);
      if (built)
        return fail(`${ctx.kwargsSource}: the provider cannot build VaultBackend: ${built}`, constructionFix(ctx));
    }
    const notes = read.typeProblems.map((t) => `${t}`);
    const summary = `${ctx.kwargsSource}: mount_point ${JSON.stringify(k.mount_point ?? 'secret')}, connections_path ${JSON.stringify(k.connections_path ?? 'connections')}, variables_path ${JSON.stringify(k.variables_path ?? 'variables')}, kv_engine_version ${String(k.kv_engine_version ?? 2)}, auth_type ${String(k.auth_type ?? 'token')}`;
    if (notes.length) return { ...warn(`${summary}; ${notes.join('; ')}`), suspect: true };
    return ok(summary);
  },
});

function describeKey(ctx: CheckInput, key: string): string {
  const s = ctx.backend.keySources[key];
  return s?.kind === 'per-key' ? `${key} from ${s.name}` : key;
}

/** The key edit that lets the provider build the backend, found from the kwargs as the provider checks them. */
function constructionFix(ctx: CheckInput): string | undefined {
  const k = ctx.backend.kwargs;
  const kv = k.kv_engine_version;
  if (pyTruthy(kv) && kv !== 1 && kv !== 2 && kv !== true)
    return kwargsFix(ctx, { kv_engine_version: { set: Number(kv) === 1 ? 1 : 2 } });
  const authType = 'auth_type' in k ? k.auth_type : 'token';
  if (!isAuthType(authType)) return kwargsFix(ctx, { auth_type: { set: 'token' } });
  const missing = missingAuthKey(authType, k, ctx.env, 'build');
  if (missing?.includes('token')) return upFix(ctx, { newToken: true }) ?? tokenFix(ctx);
  // A credential the login needs (role_id, ...): the sandbox writes its own; else only its owner has it.
  if (missing)
    return (
      upFix(ctx, { newToken: true }) ??
      `${kwargsFix(ctx, { [missing]: { set: yourCredential(missing) } })}  # the ${authType} login needs it`
    );
  return undefined;
}

/**
 * Token auth with no token anywhere: only the user has the token, so it goes in the placeholder's
 * place as VAULT_TOKEN, which hvac and the provider read when the kwargs name none, in the file
 * the sandbox's instructions load.
 */
function tokenFix(ctx: CheckInput): string {
  return `${envVarFix(ctx, 'VAULT_TOKEN', YOUR_TOKEN)}  # read when the kwargs give no token or token_path`;
}
