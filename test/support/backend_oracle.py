"""
Real Airflow's answer to "which secrets backend, with which kwargs": the oracle of
test/e2e/backend-settings.airflow.test.ts.

Run by an Airflow venv's python with a JSON file of cases: `python backend_oracle.py cases.json`.
Airflow is imported once (with a scratch AIRFLOW_HOME and no backend); each case is answered by a
forked child that replaces os.environ wholesale and chdirs, then builds the configuration the way
Airflow does at start (airflow.configuration.initialize_config() with AIRFLOW_HOME and
AIRFLOW_CONFIG computed afresh; on Airflow 3 the task side's AirflowSDKConfigParser too) and calls
Airflow's own get_custom_secret_backend. The backend class is swapped for a recorder at the one
place Airflow imports it (conf.getimport), so the answer is the class path and the exact kwargs
Airflow would call it with; the real class is then built with those kwargs to see what it raises,
and with token auth its hvac client is built (no request is sent) to see where it would talk.
Output: one JSON array, one entry per case, on stdout.
"""

import copy
import json
import logging
import os
import sys
import traceback

CASES = json.load(open(sys.argv[1]))
# Airflow logs to stdout: the answer goes to the original stdout, everything else to stderr.
REPLY = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)

import airflow.configuration as afc  # noqa: E402

try:
    import airflow.sdk.configuration as sdkc  # noqa: E402
    from airflow.sdk.configuration import AirflowSDKConfigParser  # noqa: E402
except ImportError:
    sdkc = None
    AirflowSDKConfigParser = None


def cached(fn):
    """config.yml parsed once: the description of the options depends on no environment."""
    memo = {}

    def wrapper(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = fn(*args, **kwargs)
        return copy.deepcopy(memo[key])

    return wrapper


if hasattr(afc, "retrieve_configuration_description"):
    afc.retrieve_configuration_description = cached(afc.retrieve_configuration_description)
if sdkc is not None:
    sdkc.retrieve_configuration_description = cached(sdkc.retrieve_configuration_description)


def exc_text(e):
    return f"{type(e).__name__}: {e}"


class Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append(record.getMessage())
        except Exception:
            self.messages.append(str(record.msg))


def client_view(backend):
    """Where the backend's hvac client would talk, for token auth (building it sends nothing)."""
    vc = backend.vault_client
    if vc.auth_type != "token":
        return None
    try:
        c = vc._client
    except Exception as e:
        return {"error": type(e).__name__}
    a = c.adapter
    return {
        "base_uri": a.base_uri,
        "verify": a._kwargs.get("verify"),
        "proxies": a._kwargs.get("proxies") or None,
        "timeout": a._kwargs.get("timeout"),
        "namespace": a.namespace,
        "token_set": bool(c.token),
    }


def answer(parser, worker_mode):
    """Airflow's get_custom_secret_backend on this parser, with the class import recorded."""
    out = {"classPath": None, "kwargs": None, "fatal": None, "construct": None, "warnings": []}
    handler = Warnings()
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)
    recorded = {}

    class Recorder:
        def __init__(self, **kwargs):
            recorded["kwargs"] = kwargs

    def getimport(section, key, **kw):
        path = parser.get(section=section, key=key, **kw)
        if not path:
            return None
        recorded["classPath"] = path
        return Recorder

    parser.getimport = getimport
    try:
        if worker_mode is None:
            afc.conf = parser
            afc.get_custom_secret_backend()
        else:
            parser._get_custom_secret_backend(worker_mode=worker_mode)
    except BaseException as e:
        out["fatal"] = exc_text(e)
    finally:
        logging.getLogger().removeHandler(handler)
    out["warnings"] = handler.messages
    out["classPath"] = recorded.get("classPath")
    kwargs = recorded.get("kwargs")
    out["kwargs"] = kwargs
    if kwargs is not None and out["classPath"]:
        try:
            from airflow.providers.hashicorp.secrets.vault import VaultBackend

            b = VaultBackend(**kwargs)
            out["built"] = {
                "connections_path": b.connections_path,
                "variables_path": b.variables_path,
                "config_path": b.config_path,
                "mount_point": b.mount_point,
                "kv_engine_version": b.vault_client.kv_engine_version,
                "auth_type": b.vault_client.auth_type,
                "url": b.vault_client.url,
            }
            out["client"] = client_view(b)
        except BaseException as e:
            out["construct"] = exc_text(e)
    return out


def server_parser():
    afc.AIRFLOW_HOME = afc.get_airflow_home()
    afc.AIRFLOW_CONFIG = afc.get_airflow_config(afc.AIRFLOW_HOME)
    return afc.initialize_config()


def run_case(case):
    os.environ.clear()
    os.environ.update(case["env"])
    os.chdir(case["cwd"])
    result = {"id": case["id"]}
    try:
        parser = server_parser()
    except BaseException as e:
        result["server"] = {"fatal": exc_text(e)}
    else:
        result["server"] = answer(parser, None if AirflowSDKConfigParser is None else False)
    if case.get("worker") and AirflowSDKConfigParser is not None:
        try:
            sdk = AirflowSDKConfigParser()
        except BaseException as e:
            result["worker"] = {"fatal": exc_text(e)}
        else:
            result["worker"] = answer(sdk, True)
    return result


def main():
    results = []
    for case in CASES:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                payload = json.dumps(run_case(case), default=repr)
            except BaseException:
                payload = json.dumps({"id": case["id"], "error": traceback.format_exc()[-2000:]})
            with os.fdopen(w, "w") as f:
                f.write(payload)
            os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            data = f.read()
        os.waitpid(pid, 0)
        results.append(json.loads(data) if data else {"id": case["id"], "error": "no answer"})
    REPLY.write(json.dumps(results))
    REPLY.flush()


main()
