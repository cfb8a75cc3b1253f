"""The oracle for Airflow 3's task side: the chain a task process builds and what each backend in it
answers for one connection id, up to the API server (which is not the task's own lookup).

It builds the chain the way a task does: with SUPERVISOR_COMMS set, ensure_secrets_backend_loaded()
(airflow/sdk/execution_time/supervisor.py) returns the worker chain ([workers] secrets_backend, else
[secrets] backend; then env vars; then the Execution API). Prints one JSON line.
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")
conn_id = sys.argv[1]
out = {"chain": [], "error": None}
try:
    from airflow.sdk.execution_time import task_runner

    task_runner.SUPERVISOR_COMMS = object()
    from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded

    backends = ensure_secrets_backend_loaded()
except Exception as e:  # the task cannot even build its chain
    out["error"] = type(e).__name__
    backends = []
for b in backends:
    name = type(b).__name__
    if name == "ExecutionAPISecretsBackend":
        break
    try:
        found = b.get_connection(conn_id=conn_id) is not None
        out["chain"].append({"name": name, "found": found})
        if found:
            break
    except Exception as e:
        out["chain"].append({"name": name, "found": False, "error": type(e).__name__})
print("__ORACLE__" + json.dumps(out))
