/**
 * Airflow's configuration without Airflow: [secrets] backend and backend_kwargs from the environment
 * (plain, then `_CMD`), else airflow.cfg (AIRFLOW_CONFIG, or AIRFLOW_HOME/airflow.cfg, or
 * ~/airflow/airflow.cfg), in the order Airflow's conf.get reads them. `_SECRET` needs Airflow's
 * own secrets backend and is left to the probe.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MAX_TEXT_BYTES, readUserFileIfExists } from '../io/read.js';

export interface CfgValue {
  value: string;
  /** For messages: 'AIRFLOW__SECRETS__BACKEND in .env', '[secrets] backend in /x/airflow.cfg'. */
  source: string;
  /** The env var or airflow.cfg key it came from. */
  name: string;
}

/** configparser's reading of an INI file, enough for airflow.cfg: sections, key = value, indented continuation lines, # and ; comments. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') {
      lastKey = raw.trim() === '' ? undefined : lastKey;
      continue;
    }
    const sec = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (sec) {
      section = out.get(sec[1]!.trim()) ?? new Map();
      out.set(sec[1]!.trim(), section);
      lastKey = undefined;
      continue;
    }
    if (/^\s/.test(raw) && section && lastKey) {
      section.set(lastKey, `${section.get(lastKey)}\n${raw.trim()}`);
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv && section) {
      lastKey = kv[1]!.trim().toLowerCase();
      section.set(lastKey, kv[2]!.trim());
    }
  }
  return out;
}

export function airflowCfgPath(env: Map<string, string>, home: string): string {
  return env.get('AIRFLOW_CONFIG') || join(env.get('AIRFLOW_HOME') || join(home, 'airflow'), 'airflow.cfg');
}

/** [secrets] <key> as Airflow reads it; `sensitive` keys may also come from a _CMD (Airflow allows it only for those). */
export function readSecretsOption(
  key: 'backend' | 'backend_kwargs',
  env: Map<string, string>,
  envOrigin: (name: string) => string,
  home: string,
): CfgValue | undefined {
  const name = `AIRFLOW__SECRETS__${key.toUpperCase()}`;
  const direct = env.get(name);
  if (direct !== undefined) return { value: direct, source: `${name} in ${envOrigin(name)}`, name };
  const sensitive = key === 'backend_kwargs';
  const cmd = env.get(`${name}_CMD`);
  if (sensitive && cmd !== undefined) {
    try {
      const value = execFileSync('/bin/sh', ['-c', cmd], {
        encoding: 'utf8',
        timeout: 10_000,
        env: Object.fromEntries(env),
        stdio: ['ignore', 'pipe', 'ignore'],
      }).replace(/\n$/, '');
      return { value, source: `${name}_CMD in ${envOrigin(`${name}_CMD`)}`, name: `${name}_CMD` };
    } catch {
      return { value: '', source: `${name}_CMD (the command failed)`, name: `${name}_CMD` };
    }
  }
  const file = airflowCfgPath(env, home);
  // Its *_cmd options are run: a file another user owns is refused, never run (src/io/trust.ts).
  const text = readUserFileIfExists(file, {
    what: 'airflow.cfg',
    maxBytes: MAX_TEXT_BYTES,
    ownerCheck: true,
    fix: 'make it yours, or point AIRFLOW_HOME at an Airflow home of yours',
  });
  if (text === null) return undefined;
  const ini = parseIni(text);
  const sec = ini.get('secrets');
  const v = sec?.get(key);
  if (v !== undefined) return { value: v, source: `[secrets] ${key} in ${file}`, name: key };
  const c = sensitive ? sec?.get(`${key}_cmd`) : undefined;
  if (c !== undefined) {
    try {
      const value = execFileSync('/bin/sh', ['-c', c], {
        encoding: 'utf8',
        timeout: 10_000,
        env: Object.fromEntries(env),
        stdio: ['ignore', 'pipe', 'ignore'],
      }).replace(/\n$/, '');
      return { value, source: `[secrets] ${key}_cmd in ${file}`, name: `${key}_cmd` };
    } catch {
      return { value: '', source: `[secrets] ${key}_cmd in ${file} (the command failed)`, name: `${key}_cmd` };
    }
  }
  return undefined;
}
