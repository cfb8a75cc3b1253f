/**
 * The Python half of the Airflow probe (see probe.ts). It runs in the Python of the user's Airflow
 * and uses Airflow's own code for every step, so its answer is Airflow's answer:
 *  - configuration through `airflow.configuration.conf` (environment, airflow.cfg, `_CMD`, `_SECRET`);
 *  - the secrets backends through `ensure_secrets_loaded()` (construction errors surface here: on 2.x
 *    they already break `import airflow.configuration`, which is what `airflow connections get` sees);
 *  - the verdict per id through `Connection.get_connection_from_secrets` / `Variable.get`, the calls
 *    `airflow connections get` / `airflow variables get` make;
 *  - then each backend asked alone, logging captured at DEBUG, because Airflow swallows the
 *    backend's exception (hvac Forbidden, a proxy error, a missing role_id) behind "isn't defined".
 * Kept as a string so the package ships it without a copy step; no `${` or backticks inside.
 */
export const PROBE_PY = String.raw`
import json, logging, os, sys, time, traceback, configparser

T0 = time.time()
REQ = json.load(sys.stdin)
OUT = {"timings": {}, "connections": {}, "variables": {}, "backends": [], "config": {}, "init_error": None}
HVAC_STATUS = {
    "InvalidRequest": 400, "Unauthorized": 401, "Forbidden": 403, "InvalidPath": 404, "UnsupportedOperation": 405,
    "PreconditionFailed": 412, "RateLimitExceeded": 429, "InternalServerError": 500, "VaultNotInitialized": 501,
    "BadGateway": 502, "VaultDown": 503,
}
# Below WARNING only the loggers on the path of a lookup (HTTP, hvac, the provider, the secrets chain).
KEEP = ("urllib3", "requests", "hvac", "airflow.providers.hashicorp", "airflow.models.connection", "airflow.models.variable", "airflow.secrets", "airflow.sdk.definitions.connection", "airflow.configuration")


def answer():
    """Write the report and leave at once: tearing down an interpreter with Airflow loaded (atexit
    ORM disposal, logging shutdown, module GC) takes longer than the lookups, and the report is whole."""
    sys.stdout.write("\n__CSS_PROBE__" + json.dumps(OUT, default=str) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def chain(exc):
    """The exception and its causes, outermost first: type, message, HTTP status when hvac gives one."""
    out, seen = [], set()
    while exc is not None and id(exc) not in seen and len(out) < 6:
        seen.add(id(exc))
        t = type(exc)
        item = {"type": t.__module__ + "." + t.__qualname__, "name": t.__name__, "message": str(exc)[:600]}
        for k in [c.__name__ for c in t.__mro__]:
            if t.__module__.startswith("hvac") and k in HVAC_STATUS:
                item["status"] = HVAC_STATUS[k]
                break
        resp = getattr(exc, "response", None)
        if "status" not in item and getattr(resp, "status_code", None) is not None:
            item["status"] = resp.status_code
        out.append(item)
        exc = exc.__cause__ or exc.__context__
    return out


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        # The ORM's mapper chatter says nothing about secrets; its warnings still count.
        if record.levelno < logging.WARNING and not record.name.startswith(KEEP):
            return
        if len(self.lines) >= 60:
            return
        try:
            msg = record.getMessage()
        except Exception:
            msg = str(record.msg)
        line = {"logger": record.name, "level": record.levelname, "message": msg[:600]}
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = chain(record.exc_info[1])
        self.lines.append(line)


def captured(fn):
    """Run fn with every log record at DEBUG and above collected, Airflow's own handlers muted."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    raised = []
    for lg in list(logging.root.manager.loggerDict.values()):
        if isinstance(lg, logging.Logger) and lg.level > logging.DEBUG:
            raised.append((lg, lg.level))
            lg.setLevel(logging.NOTSET)
    cap = Capture()
    root.handlers = [cap]
    root.setLevel(logging.DEBUG)
    try:
        value, error = fn(), None
    except BaseException as e:
        value, error = None, e
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
        for lg, lvl in raised:
            lg.setLevel(lvl)
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error
    return value, error, cap.lines


def source_of(section, key):
    """Where Airflow takes [section] key from, in its own order: env, env _CMD, env _SECRET, airflow.cfg."""
    var = "AIRFLOW__" + section.upper() + "__" + key.upper()
    for suffix in ("", "_CMD", "_SECRET"):
        if var + suffix in os.environ:
            return {"source": "environment", "name": var + suffix}
    path = os.environ.get("AIRFLOW_CONFIG") or os.path.join(os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow"), "airflow.cfg")
    try:
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.read(path)
        for k in (key, key + "_cmd", key + "_secret"):
            if cp.has_option(section, k):
                return {"source": "airflow.cfg", "name": k, "file": path}
    except Exception:
        pass
    return {"source": "default"}


def conn_view(c):
    if c is None:
        return None
    return {k: getattr(c, k, None) for k in ("conn_type", "host", "port", "login", "password", "schema", "extra")}


major = REQ.get("major", "3")
if major == "3":
    # What airflow connections get sets before it asks (cli/commands/connection_command.py).
    os.environ["_AIRFLOW_PROCESS_CONTEXT"] = "server"
import warnings
warnings.simplefilter("ignore")

t = time.time()
try:
    from airflow.configuration import conf
    from airflow import configuration as afc
except BaseException as e:
    OUT["init_error"] = {"stage": "import", "chain": chain(e), "trace": traceback.format_exc()[-3000:]}
    answer()
OUT["timings"]["import"] = time.time() - t

for section, key in (("secrets", "backend"), ("secrets", "backend_kwargs"), ("workers", "secrets_backend")):
    entry = source_of(section, key)
    try:
        entry["value"] = conf.get(section, key, fallback="")
    except BaseException as e:
        entry["error"] = chain(e)
    OUT["config"][section + "." + key] = entry
per_key = {k[len("AIRFLOW__SECRETS__BACKEND_KWARG__"):].lower(): v for k, v in os.environ.items() if k.startswith("AIRFLOW__SECRETS__BACKEND_KWARG__") and len(k) > len("AIRFLOW__SECRETS__BACKEND_KWARG__")}
if per_key:
    OUT["config"]["per_key_kwargs"] = sorted(per_key)

t = time.time()
backends, error, logs = captured(lambda: afc.ensure_secrets_loaded())
OUT["timings"]["backends"] = time.time() - t
if error is not None:
    OUT["init_error"] = {"stage": "backends", "chain": chain(error), "logs": logs}
    answer()
def backend_info(b):
    t_ = type(b)
    info = {"class": t_.__module__ + "." + t_.__qualname__, "name": t_.__name__}
    for attr in ("connections_path", "variables_path", "mount_point", "kv_engine_version"):
        if hasattr(b, attr):
            info[attr] = getattr(b, attr)
    vc = getattr(b, "vault_client", None)
    if vc is not None:
        info["url"] = getattr(vc, "url", None)
        info["auth_type"] = getattr(vc, "auth_type", None)
        info["namespace"] = (getattr(vc, "kwargs", None) or {}).get("namespace")
    return info


for b in backends:
    OUT["backends"].append(backend_info(b))

try:
    from airflow.secrets.base_secrets import BaseSecretsBackend  # noqa: F401
except Exception:
    pass
try:
    from airflow._shared.secrets_backend.base import call_secrets_backend_method
except Exception:
    call_secrets_backend_method = None


def call(method, **kw):
    if call_secrets_backend_method is not None:
        return call_secrets_backend_method(method, team_name=None, **kw)
    return method(**kw)


from airflow.models.connection import Connection
from airflow.models.variable import Variable


def list_keys(b, path):
    """The ids under a path, through the backend's own authenticated client (KV list)."""
    vc = b.vault_client
    kv = vc.client.secrets.kv
    if b.mount_point:
        mount, sub = b.mount_point, path
    else:
        mount, _, sub = path.partition("/")
    resp = kv.v1.list_secrets(path=sub, mount_point=mount) if vc.kv_engine_version == 1 else kv.v2.list_secrets(path=sub, mount_point=mount)
    return [k for k in resp["data"]["keys"] if not k.endswith("/")]


# Without ids from the caller, the ids are those Vault lists where each VaultBackend looks.
if REQ.get("list"):
    OUT["listing"] = []
    for b in backends:
        if getattr(b, "vault_client", None) is None:
            continue
        for kind, req_key in (("connections", "connections"), ("variables", "variables")):
            for path in getattr(b, kind + "_path", None) or []:
                keys, lerr, llogs = captured(lambda: list_keys(b, path))
                OUT["listing"].append({"kind": kind, "path": path, "keys": keys or [], "error": chain(lerr) if lerr else None})
                for k in keys or []:
                    if k not in REQ.setdefault(req_key, []):
                        REQ[req_key].append(k)

# Doctor asks every backend (to show what a hit shadows); the create flow's check only needs the
# backend that answers, as Airflow itself stops at the first hit.
ALL_BACKENDS = REQ.get("allBackends", True)
t = time.time()
for cid in REQ.get("connections", []):
    conn, err, logs = captured(lambda: Connection.get_connection_from_secrets(cid))
    entry = {"found": conn is not None, "conn": conn_view(conn), "error": chain(err) if err else None, "logs": logs, "backends": []}
    for b in backends:
        got, berr, blogs = captured(lambda: call(b.get_connection, conn_id=cid))
        entry["backends"].append({"name": type(b).__name__, "found": got is not None, "conn": conn_view(got), "error": chain(berr) if berr else None, "logs": blogs})
        if got is not None and not ALL_BACKENDS:
            break
    OUT["connections"][cid] = entry

MISSING = object()
for key in REQ.get("variables", []):
    val, err, logs = captured(lambda: Variable.get(key, default_var=MISSING))
    found = val is not MISSING and err is None
    entry = {"found": found, "value": val if found else None, "error": chain(err) if err else None, "logs": logs, "backends": []}
    for b in backends:
        got, berr, blogs = captured(lambda: call(b.get_variable, key=key))
        entry["backends"].append({"name": type(b).__name__, "found": got is not None, "value": got, "error": chain(berr) if berr else None, "logs": blogs})
        if got is not None and not ALL_BACKENDS:
            break
    OUT["variables"][key] = entry
OUT["timings"]["lookups"] = time.time() - t

# Airflow 3: a task builds its first backend from [workers] secrets_backend / secrets_backend_kwargs
# when the class is set, else from [secrets] (the SDK's get_custom_secret_backend(worker_mode=True),
# what ensure_secrets_backend_loaded does in a task). When any [workers] option is set, that backend
# is built and asked too, as a task would ask it.
WORKER_PREFIX = "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__"
if major == "3":
    wcfg = {}
    for key in ("secrets_backend", "secrets_backend_kwargs"):
        entry = source_of("workers", key)
        try:
            entry["value"] = conf.get("workers", key, fallback="")
        except BaseException as e:
            entry["error"] = chain(e)
        wcfg[key] = entry
    wper = sorted(k[len(WORKER_PREFIX):].lower() for k in os.environ if k.startswith(WORKER_PREFIX) and len(k) > len(WORKER_PREFIX))
    if any(e["source"] != "default" for e in wcfg.values()) or wper:
        W = {"config": wcfg, "per_key_kwargs": wper, "section": "workers" if wcfg["secrets_backend"].get("value") else "secrets", "backend": None, "init_error": None, "connections": {}, "variables": {}}

        def worker_backend():
            try:
                from airflow.sdk.configuration import get_custom_secret_backend
            except ImportError:
                from airflow.configuration import get_custom_secret_backend
            return get_custom_secret_backend(worker_mode=True)

        wb, werr, wlogs = captured(worker_backend)
        if werr is not None:
            W["init_error"] = {"chain": chain(werr), "logs": wlogs}
        elif wb is not None:
            W["backend"] = backend_info(wb)
            for cid in REQ.get("connections", []):
                got, berr, blogs = captured(lambda: wb.get_connection(conn_id=cid))
                W["connections"][cid] = {"name": type(wb).__name__, "found": got is not None, "conn": conn_view(got), "error": chain(berr) if berr else None, "logs": blogs}
            for key in REQ.get("variables", []):
                got, berr, blogs = captured(lambda: wb.get_variable(key=key))
                W["variables"][key] = {"name": type(wb).__name__, "found": got is not None, "value": got, "error": chain(berr) if berr else None, "logs": blogs}
        OUT["workers"] = W
OUT["timings"]["total"] = time.time() - T0
answer()
`;
