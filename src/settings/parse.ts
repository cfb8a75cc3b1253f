/**
 * The parse/validate function of each schema row, by key: a raw value (from a flag, the config, the
 * environment or a wizard answer) and where it came from, to a checked value or a UsageError naming
 * both. Flags, config and wizard go through the same functions, so they accept the same values.
 * Rules that relate two settings (a path under the mount) stay in settings.ts after the merge.
 */
import { UsageError } from '../errors.js';
import { isLoopback, parseAddress, type ListenAddress } from '../vault/address.js';
import { rootTokenProblem } from '../vault/server.js';
import { mountProblem, pathCharsProblem } from '../validate/vault-path.js';
import { rootTokenCharsProblem } from '../validate/root-token.js';
import { row, type SettingKey } from './schema.js';
import { MAX_TTL_SECONDS, parseTtl } from '../vault/auth/ttl.js';
import { type AuthMethodName, isAuthMethodName } from '../vault/auth/index.js';

/** A mount or path as VaultBackend will join it: no leading or trailing slash, no empty or dot segments. */
export function normalizeVaultPath(flag: string, value: string, allowEmpty: boolean): string {
  const v = value.trim().replace(/^\/+|\/+$/g, '');
  if (v === '' && !allowEmpty) throw new UsageError(`${flag} '${value}' is empty; give a path such as 'secret'`);
  for (const seg of v === '' ? [] : v.split('/')) {
    if (seg === '' || seg === '.' || seg === '..' || /\s/.test(seg) || /[?#%]/.test(seg)) {
      throw new UsageError(
        `${flag} '${value}' has a segment '${seg}' that Vault paths cannot hold; use plain names joined by '/'`,
      );
    }
  }
  return v;
}

function choice(key: SettingKey) {
  return (raw: unknown, where: string): string => {
    const allowed = row(key).choices ?? [];
    if (!allowed.includes(String(raw)))
      throw new UsageError(`${where} '${String(raw)}' is not one of ${allowed.join(', ')}`);
    return String(raw);
  };
}

function subPath(raw: unknown, where: string): string {
  const p = normalizeVaultPath(where, String(raw), true);
  const bad = pathCharsProblem(p);
  if (bad) throw new UsageError(`${where} '${p}' ${bad}`);
  return p;
}

export interface Parsed {
  address: ListenAddress;
  mount: string;
  connectionsPath: string;
  variablesPath: string;
  airflowVersion: string;
  check: string;
  format: string;
  rootToken: string;
  auth: AuthMethodName;
  secretIdTtl: number;
}

type Parsers = { [K in keyof Parsed]: (raw: unknown, where: string, allowRemote?: boolean) => Parsed[K] };

export const PARSERS: Parsers = {
  address: (raw, where, allowRemote = false) => {
    const a = parseAddress(String(raw), where);
    if (!isLoopback(a.host) && !allowRemote) {
      throw new UsageError(
        `${where} '${String(raw).trim()}' is not a loopback address; a dev server runs unsealed with a root token (and speaks plain HTTP unless --tls), so it listens on 127.0.0.1 only (pass --allow-remote to override)`,
      );
    }
    return a;
  },
  mount: (raw, where) => {
    const m = normalizeVaultPath(where, String(raw), false);
    const bad = mountProblem(m);
    if (bad) throw new UsageError(`${where} '${m}' ${bad}; pick another mount name, e.g. 'kv' or the default 'secret'`);
    return m;
  },
  connectionsPath: subPath,
  variablesPath: subPath,
  airflowVersion: choice('airflowVersion'),
  check: choice('check'),
  format: choice('format'),
  auth: (raw, where) => {
    const name = choice('auth')(raw, where);
    if (!isAuthMethodName(name)) throw new UsageError(`${where} '${name}' is not an auth method`);
    return name;
  },
  secretIdTtl: (raw, where) => {
    const t = parseTtl(String(raw));
    if (t === null)
      throw new UsageError(`${where} '${String(raw)}' is not a duration; write e.g. 30m, 24h, 7d, or 0 for no expiry`);
    if (t === 'too-long')
      throw new UsageError(
        `${where} '${String(raw)}' is longer than Vault can hold (${MAX_TTL_SECONDS}s, about 292 years); write e.g. 7d, or 0 for no expiry`,
      );
    return t;
  },
  rootToken: (raw, where) => {
    const t = String(raw);
    const p = rootTokenProblem(t) ?? rootTokenCharsProblem(t);
    if (p)
      throw new UsageError(
        `${where} ${p}; choose an id of letters, digits, - and _ (or leave it out to let the server make one)`,
      );
    return t;
  },
};
