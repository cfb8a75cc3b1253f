/**
 * The one reader of Airflow's Vault backend settings: the class path and the exact keyword
 * arguments Airflow calls it with, each with the source that gave it, read the way the given
 * Airflow reads them (configuration.py `get_custom_secret_backend`; on Airflow 3 the task side's
 * `[workers] secrets_backend` chain too). It never decides anything about Vault: that is for the
 * callers, from what it returns.
 */
import { userInfo } from 'node:os';
import { airflowFeatures, type AirflowFeatures } from './features.js';
import type { BackendSettings } from './kwargs.js';
import { typedKwargs } from './provider.js';
import {
  confGet,
  envSource,
  envVarName,
  loadAirflowCfg,
  type ConfEnv,
  type ConfError,
  type SettingSource,
} from './airflow-conf.js';
import { userEnvironment, type UserEnvironment } from './user-env.js';

export type BackendSide = 'server' | 'worker';

export interface ReadProblem extends Omit<ConfError, 'kind'> {
  kind: ConfError['kind'] | 'kwargs-not-json' | 'kwargs-not-object' | 'per-key-clash';
  /** Which option it concerns. */
  option: string;
  source?: SettingSource;
}

export interface BackendRead {
  features: AirflowFeatures;
  side: BackendSide;
  /** The class and the kwargs typed (values of the wrong type are left out and named in `typeProblems`). */
  settings: BackendSettings;
  /** Exactly what the backend class is called with: `cls(**kwargs)`. */
  kwargs: Record<string, unknown>;
  classSource?: SettingSource;
  /** The kwargs JSON text as Airflow read it (undefined when not set), and where it came from. */
  kwargsText?: string;
  kwargsSource?: SettingSource;
  /** The source of every key of `kwargs`: the JSON's source, or the per-key variable that replaced it. */
  keySources: Record<string, SettingSource>;
  problems: ReadProblem[];
  typeProblems: string[];
  /** The airflow.cfg path Airflow reads (whether or not it exists). */
  cfgFile: string;
  /** The options the class and kwargs were read from (`[workers] ...` when the task side has its own). */
  section: 'secrets' | 'workers';
}

export interface ReadOptions {
  /** An Airflow version ('3.3.2') or major ('3'); a major stands for its newest release. */
  version: string;
  /** Airflow's CLI and server processes ('server'), or a task process on Airflow 3 ('worker'). */
  side?: BackendSide;
  cwd?: string;
  /** The account whose `~` Airflow expands (tests give another). */
  own?: { user: string; home: string };
}

function ownAccount(env: ReadonlyMap<string, string>): { user: string; home: string } {
  try {
    const u = userInfo();
    return { user: u.username, home: u.homedir };
  } catch {
    return { user: '', home: env.get('HOME') ?? '/' };
  }
}

/** Python's `if not value` for a parsed kwargs JSON: these silently mean no kwargs. */
const falsyJson = (v: unknown) =>
  v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0);

/** The per-key prefix for an options pair: AIRFLOW__SECRETS__BACKEND_KWARG__, AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__. */
export function perKeyPrefix(section: string, kwargsKey: string): string {
  return `${envVarName(section, kwargsKey.replace('_kwargs', '_kwarg'))}__`;
}

/**
 * Airflow 3.3's per-key kwargs: every variable under the prefix sets its lower-cased key, as a raw
 * string, over the JSON. Two variables for one key (URL and url) are applied in the order of the
 * process environment, which only the running Airflow knows: that key is left to Airflow.
 */
function applyPerKey(read: BackendRead, ce: ConfEnv, prefix: string): void {
  const seen = new Map<string, string>();
  for (const [name, value] of ce.env) {
    if (!name.startsWith(prefix) || name.length === prefix.length) continue;
    const key = name.slice(prefix.length).toLowerCase();
    const other = seen.get(key);
    if (other !== undefined && ce.env.get(other) !== value)
      read.problems.push({
        effect: 'unknown',
        kind: 'per-key-clash',
        message: `${other} and ${name} both set "${key}": Airflow takes the one that comes later in its environment`,
        option: name,
        source: envSource(ce, 'per-key', name),
      });
    seen.set(key, name);
    read.kwargs[key] = value;
    read.keySources[key] = envSource(ce, 'per-key', name);
  }
}

export async function readBackendSettings(user: UserEnvironment, opts: ReadOptions): Promise<BackendRead> {
  const features = airflowFeatures(opts.version);
  const side: BackendSide = opts.side === 'worker' && features.workersBackend ? 'worker' : 'server';
  const ce: ConfEnv = {
    env: user.env,
    fromEnvFile: user.fromEnvFile,
    envFile: user.envFile,
    own: opts.own ?? ownAccount(user.env),
    cwd: opts.cwd,
    cfgCommandFailureDropsKwargs: features.cfgCommandFailureDropsKwargs,
  };
  const cfg = loadAirflowCfg(ce);
  const read: BackendRead = {
    features,
    side,
    settings: { kwargs: {} },
    kwargs: {},
    keySources: {},
    problems: [],
    typeProblems: [],
    cfgFile: cfg.path,
    section: 'secrets',
  };
  // Airflow reads airflow.cfg whole when it starts: a file configparser refuses stops every command.
  // The task side's own parser (Airflow 3's SDK) only logs it and goes on with what it could read.
  if (cfg.error) {
    const tolerated = side === 'worker' && cfg.ini !== undefined;
    read.problems.push({ ...cfg.error, ...(tolerated ? { effect: 'logged' as const } : {}), option: 'airflow.cfg' });
  }

  let section: 'secrets' | 'workers' = 'secrets';
  let classKey = 'backend';
  let kwargsKey = 'backend_kwargs';
  let cls = side === 'worker' ? await confGet('workers', 'secrets_backend', ce, cfg) : undefined;
  if (cls?.value) {
    section = 'workers';
    classKey = 'secrets_backend';
    kwargsKey = 'secrets_backend_kwargs';
  } else if (!cls?.error) {
    cls = await confGet('secrets', 'backend', ce, cfg);
  }
  read.section = section;
  if (cls.error) read.problems.push({ ...cls.error, option: `[${section}] ${classKey}`, source: cls.source });
  if (!cls.value) return read;
  read.settings.classPath = cls.value;
  if (cls.source) read.classSource = cls.source;

  const kw = await confGet(section, kwargsKey, ce, cfg);
  const option = `[${section}] ${kwargsKey}`;
  if (kw.source) read.kwargsSource = kw.source;
  if (kw.error) read.problems.push({ ...kw.error, option, source: kw.source });
  else if (kw.value !== undefined && kw.value !== '') {
    read.kwargsText = kw.value;
    let parsed: unknown;
    try {
      parsed = JSON.parse(kw.value);
    } catch (e) {
      read.problems.push({
        effect: 'dropped',
        kind: 'kwargs-not-json',
        message: `not valid JSON (${(e as Error).message})`,
        option,
        source: kw.source,
      });
    }
    if (parsed !== undefined && !falsyJson(parsed)) {
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) {
          read.kwargs[k] = v;
          if (kw.source) read.keySources[k] = kw.source;
        }
      } else {
        read.problems.push({
          effect: 'dropped',
          kind: 'kwargs-not-object',
          message: 'a JSON value, but not an object',
          option,
          source: kw.source,
        });
      }
    }
  }
  if (features.perKeyKwargs) applyPerKey(read, ce, perKeyPrefix(section, kwargsKey));
  const typed = typedKwargs(read.kwargs, features);
  read.settings.kwargs = typed.kwargs;
  read.typeProblems = typed.problems;
  return read;
}

/**
 * The settings Airflow gets when the user loads `envFile` into the shell the tool runs in (the
 * instruction every sandbox prints), read as the given Airflow reads them.
 */
export async function readBackendWithEnvFile(
  envFile: string | undefined,
  opts: ReadOptions & { base?: NodeJS.ProcessEnv },
): Promise<{ user: UserEnvironment; read: BackendRead }> {
  const user = await userEnvironment(opts.base ?? process.env, envFile, { cwd: opts.cwd });
  return { user, read: await readBackendSettings(user, opts) };
}
