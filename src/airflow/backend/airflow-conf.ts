/**
 * Airflow's `conf.get(section, key)` for the secrets options, in Airflow's own order
 * (_shared/configuration/parser.py on 3.3, configuration.py on 2.11):
 *   1. AIRFLOW__<SECTION>__<KEY> in the environment ($VAR and ~ expanded, until nothing changes),
 *      else its _CMD (a command, argv by shlex, no shell; only for sensitive options), else its _SECRET;
 *   2. airflow.cfg (AIRFLOW_CONFIG, else $AIRFLOW_HOME/airflow.cfg, else ~/airflow/airflow.cfg):
 *      the key (% interpolation, then $VAR expansion), else `<key>_cmd`, else `<key>_secret`;
 *   3. the default (empty for every secrets option).
 * Each answer says where it came from; an error says what Airflow does with it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { runFile } from '../../process.js';
import { getOption, hasOption, IniError, parseIni, type Ini } from '../ini.js';
import { expandEnvVar, ExpansionLoop, ShlexError, shlexSplit } from './python.js';
import { FileError } from '../../errors.js';
import { MAX_TEXT_BYTES, readUserFileIfExists } from '../../io/read.js';

export type SourceKind = 'env' | 'env-cmd' | 'env-secret' | 'cfg' | 'cfg-cmd' | 'cfg-secret' | 'default' | 'per-key';

/** Where one setting came from. */
export interface SettingSource {
  kind: SourceKind;
  /** The environment variable or the airflow.cfg option (`backend_kwargs_cmd`). */
  name: string;
  /** airflow.cfg: the file; an environment variable: the env file that set it, when one did. */
  file?: string;
  /** For an environment variable: set by the env file, or already in the shell the tool runs in. */
  origin?: 'env-file' | 'shell';
  section?: string;
  /** For a `_cmd` source: the command Airflow runs to get the value. */
  command?: string;
}

/** One line for messages: "per-key env var AIRFLOW__SECRETS__BACKEND_KWARG__URL from your shell". */
export function describeSource(s: SettingSource): string {
  const where = s.origin === 'env-file' && s.file ? `in ${s.file}` : 'from your shell';
  switch (s.kind) {
    case 'env':
      return `${s.name} ${where}`;
    case 'per-key':
      return `per-key env var ${s.name} ${where}`;
    case 'env-cmd':
      return `the command in ${s.name} ${where}`;
    case 'env-secret':
      return `the secret named by ${s.name} ${where} (read through the secrets backend itself)`;
    case 'cfg':
      return `[${s.section}] ${s.name} in ${s.file}`;
    case 'cfg-cmd':
      return `the command in [${s.section}] ${s.name} in ${s.file}`;
    case 'cfg-secret':
      return `the secret named by [${s.section}] ${s.name} in ${s.file} (read through the secrets backend itself)`;
    case 'default':
      return `Airflow's default for [${s.section}] ${s.name}`;
  }
}

/**
 * What Airflow does when reading an option goes wrong:
 *  - 'fails': the exception is not one Airflow catches there, so every airflow command fails at start;
 *  - 'dropped': Airflow logs a warning and builds the backend with no kwargs at all;
 *  - 'hangs': Airflow never finishes reading it;
 *  - 'unknown': only Airflow can tell (a value read from Vault through the backend being configured);
 *  - 'logged': Airflow logs it and goes on.
 */
export type ConfEffect = 'fails' | 'dropped' | 'hangs' | 'unknown' | 'logged';

export interface ConfError {
  effect: ConfEffect;
  kind:
    | 'command-exit'
    | 'command-not-run'
    | 'command-syntax'
    | 'command-empty'
    | 'cfg-unreadable'
    | 'cfg-syntax'
    | 'cfg-interpolation'
    | 'expansion-loop'
    | 'secret';
  message: string;
}

export interface ConfValue {
  /** Absent when the option is not set anywhere (Airflow's default, empty, applies) or on error. */
  value?: string;
  source?: SettingSource;
  error?: ConfError;
}

export interface ConfEnv {
  env: ReadonlyMap<string, string>;
  /** Names the env file set (the rest came from the shell), and that file. */
  fromEnvFile?: ReadonlySet<string>;
  envFile?: string;
  own: { user: string; home: string };
  cwd?: string;
  /** Airflow 3 wraps a failing airflow.cfg command; Airflow 2 lets it through (airflowFeatures). */
  cfgCommandFailureDropsKwargs: boolean;
}

/** Options Airflow lets come from _CMD and _SECRET (config.yml `sensitive: true`). */
const SENSITIVE = new Set(['secrets.backend_kwargs', 'workers.secrets_backend_kwargs']);

export function envVarName(section: string, key: string): string {
  return `AIRFLOW__${section.toUpperCase()}__${key.toUpperCase()}`;
}

export function envSource(ce: ConfEnv, kind: SourceKind, name: string): SettingSource {
  const fromFile = ce.fromEnvFile?.has(name) === true;
  return {
    kind,
    name,
    origin: fromFile ? 'env-file' : 'shell',
    ...(fromFile && ce.envFile ? { file: ce.envFile } : {}),
  };
}

/** The airflow.cfg Airflow reads: AIRFLOW_CONFIG, else $AIRFLOW_HOME/airflow.cfg, AIRFLOW_HOME defaulting to ~/airflow. */
export function airflowCfgPath(ce: ConfEnv): string {
  const explicit = ce.env.get('AIRFLOW_CONFIG');
  if (explicit !== undefined) return expandEnvVar(explicit, ce.env, ce.own);
  return join(expandEnvVar(ce.env.get('AIRFLOW_HOME') ?? '~/airflow', ce.env, ce.own), 'airflow.cfg');
}

/** `error` with `ini`: configparser raised after reading the whole file (the lines it could not read left out). */
export type CfgFile = { path: string; ini?: Ini; error?: ConfError };

/** airflow.cfg as configparser.read() takes it: a file it cannot open counts as absent. */
export function loadAirflowCfg(ce: ConfEnv): CfgFile {
  const path = airflowCfgPath(ce);
  let text: string | null;
  try {
    // Its *_cmd options are run: another user's file is refused, and a FIFO never blocks the run.
    text = readUserFileIfExists(path, {
      what: 'airflow.cfg',
      maxBytes: MAX_TEXT_BYTES,
      ownerCheck: true,
      fix: 'make it yours, or point AIRFLOW_HOME (or AIRFLOW_CONFIG) at an Airflow config of yours',
    });
  } catch (e) {
    // What configparser cannot open (a directory, no permission) it skips.
    if (e instanceof FileError && (e.kind === 'unreadable' || e.code === 'EISDIR')) return { path };
    throw e;
  }
  if (text === null) return { path };
  try {
    return { path, ini: parseIni(text, path) };
  } catch (e) {
    if (!(e instanceof IniError)) throw e;
    const error: ConfError = { effect: 'fails', kind: 'cfg-syntax', message: e.message };
    return { path, error, ...(e.read ? { ini: e.read } : {}) };
  }
}

/** The program Popen would run: a path as given, else the first executable file of that name on PATH. */
function resolveProgram(file: string, ce: ConfEnv): string | undefined {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const cwd = ce.cwd ?? process.cwd();
  if (file.includes('/')) return executable(resolve(cwd, file)) ? resolve(cwd, file) : undefined;
  const dirs = (ce.env.get('PATH') ?? '/bin:/usr/bin').split(delimiter);
  return dirs.map((d) => resolve(cwd, d, file)).find(executable);
}

/** Airflow's run_command: argv by shlex.split, no shell, the user's environment; stdout as it is. */
async function runCommand(command: string, ce: ConfEnv, catchAll: boolean): Promise<ConfValue> {
  let argv: string[];
  try {
    argv = shlexSplit(command);
  } catch (e) {
    if (!(e instanceof ShlexError)) throw e;
    // shlex raises ValueError, which Airflow's kwargs reading catches like a non-dict value.
    return {
      error: { effect: 'dropped', kind: 'command-syntax', message: `shlex cannot split the command: ${e.message}` },
    };
  }
  const [file, ...args] = argv;
  if (file === undefined)
    return {
      error: { effect: catchAll ? 'dropped' : 'fails', kind: 'command-empty', message: 'the command is empty' },
    };
  // Popen raises OSError for a program it cannot run, which Airflow does not catch (Airflow 3 does in airflow.cfg).
  const program = resolveProgram(file, ce);
  if (!program)
    return {
      error: {
        effect: catchAll ? 'dropped' : 'fails',
        kind: 'command-not-run',
        message: `'${file}' is not an executable file${file.includes('/') ? '' : ' on PATH'}`,
      },
    };
  const r = await runFile(program, args, { env: Object.fromEntries(ce.env), cwd: ce.cwd, timeoutMs: 30_000 });
  if (r.code !== 0)
    return { error: { effect: 'dropped', kind: 'command-exit', message: `the command exited with ${r.code}` } };
  return { value: r.stdout };
}

function expanded(value: string, ce: ConfEnv, source: SettingSource): ConfValue {
  try {
    return { value: expandEnvVar(value, ce.env, ce.own), source };
  } catch (e) {
    if (!(e instanceof ExpansionLoop)) throw e;
    return { source, error: { effect: 'hangs', kind: 'expansion-loop', message: e.message } };
  }
}

const secretError = (name: string): ConfError => ({
  effect: 'unknown',
  kind: 'secret',
  message: `${name} names a secret that Airflow reads through the secrets backend itself: only Airflow can tell what it holds`,
});

/** conf.get(section, key) as Airflow computes it, with its source. `cfg` is loadAirflowCfg's answer. */
export async function confGet(section: string, key: string, ce: ConfEnv, cfg: CfgFile): Promise<ConfValue> {
  const name = envVarName(section, key);
  const sensitive = SENSITIVE.has(`${section}.${key}`);
  const direct = ce.env.get(name);
  if (direct !== undefined) return expanded(direct, ce, envSource(ce, 'env', name));
  const cmd = ce.env.get(`${name}_CMD`);
  if (sensitive && cmd !== undefined) {
    const r = await runCommand(cmd, ce, false);
    return { ...r, source: { ...envSource(ce, 'env-cmd', `${name}_CMD`), command: cmd } };
  }
  if (sensitive && ce.env.has(`${name}_SECRET`))
    return { source: envSource(ce, 'env-secret', `${name}_SECRET`), error: secretError(`${name}_SECRET`) };
  if (cfg.error && !cfg.ini) return { error: cfg.error };
  const ini = cfg.ini;
  if (ini) {
    const at = (option: string, kind: SourceKind): SettingSource => ({ kind, name: option, file: cfg.path, section });
    try {
      const v = getOption(ini, section, key);
      if (v !== undefined) return expanded(v, ce, at(key, 'cfg'));
      if (sensitive && hasOption(ini, section, `${key}_cmd`)) {
        const command = getOption(ini, section, `${key}_cmd`) ?? '';
        const r = await runCommand(command, ce, ce.cfgCommandFailureDropsKwargs);
        // An empty output counts as not set: Airflow goes on to _secret and the default.
        if (r.error || r.value) return { ...r, source: { ...at(`${key}_cmd`, 'cfg-cmd'), command } };
      }
      if (sensitive && hasOption(ini, section, `${key}_secret`))
        return { source: at(`${key}_secret`, 'cfg-secret'), error: secretError(`[${section}] ${key}_secret`) };
    } catch (e) {
      if (!(e instanceof IniError)) throw e;
      return {
        source: at(key, 'cfg'),
        error: { effect: 'fails', kind: 'cfg-interpolation', message: `${e.message} in ${cfg.path}` },
      };
    }
  }
  return {};
}
