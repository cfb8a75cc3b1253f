/**
 * The link Airflow's own failure points at, read from what it raised and from the request that
 * failed (a status means something only with the request it answered): Airflow's explanation of
 * itself, which the checks then spell out with a fix. Exceptions are told apart by their type and
 * the data they carry (status, request, errno), never by their message.
 */
import type { ProbeException, ProbeReport } from '../airflow/probe.js';
import { apiPath, failedRequest, firstFailure, firstMiss, loginMount, raised } from './evidence.js';
import type { Link } from './types.js';

/** Exceptions of Python's requests/urllib3 that mean Vault was not reached. */
const NETWORK = [
  'ConnectionError',
  'ConnectTimeout',
  'ReadTimeout',
  'Timeout',
  'ProxyError',
  'SSLError',
  'MaxRetryError',
  'NewConnectionError',
  'ConnectionRefusedError',
];
/** What Airflow's configuration raises while it is read. */
const CONFIG = [
  'InterpolationSyntaxError',
  'InterpolationError',
  'RecursionError',
  'AirflowConfigException',
  'ParsingError',
  'DuplicateOptionError',
  'DuplicateSectionError',
];
const IMPORT = ['ImportError', 'ModuleNotFoundError'];
/** What building a Connection from a stored value raises. */
const SHAPE = ['ValueError', 'AirflowException', 'JSONDecodeError'];

function ofStartUp(chain: ProbeException[]): Link[] {
  if (raised(chain, ...CONFIG)) return ['config source'];
  if (raised(chain, ...IMPORT)) return ['backend class'];
  // A setting that never reached Airflow (a per-key kwarg 2.11 ignores) comes before the kwargs it left short.
  return ['config source', 'kwargs', 'backend class'];
}

/**
 * The links that may explain Airflow's first miss, most likely first; empty when Airflow resolved
 * everything or there is nothing to read it from.
 */
export function airflowCause(p: ProbeReport): Link[] {
  if (p.init_error) return ofStartUp(p.init_error.chain);
  if (!p.backends.some((b) => b.name === 'VaultBackend')) return ['backend class'];
  const miss = firstMiss(p);
  if (miss && !miss.vault) return ['backend class', 'kwargs'];
  const v = firstFailure(p);
  if (!v) return [];
  const bad = failedRequest(v);
  if (bad) {
    if (loginMount(bad.path) !== undefined) return ['auth'];
    if (bad.error !== undefined || bad.status === undefined) return ['address/TLS/proxy'];
    if (bad.status === 403) return ['auth', 'mount and path', 'policy'];
    if (bad.status === 404) return ['mount and path'];
    if (bad.status >= 500) return ['address/TLS/proxy'];
    return ['mount and path', 'kwargs'];
  }
  if (v.error) {
    if (raised(v.error, ...NETWORK)) return ['address/TLS/proxy'];
    if (raised(v.error, 'FileNotFoundError', 'PermissionError', 'IsADirectoryError'))
      return ['auth', 'address/TLS/proxy'];
    if (raised(v.error, 'TypeError')) return ['kwargs', 'secret shape'];
    if (raised(v.error, ...SHAPE)) return ['secret shape'];
    return ['kwargs', 'auth'];
  }
  const read = v.requests.find((r) => !apiPath(r.path).startsWith('auth/'));
  if (read?.status === 200) return ['secret shape'];
  return ['mount and path'];
}
