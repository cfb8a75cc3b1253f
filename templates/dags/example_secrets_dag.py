"""Proves that Airflow resolves these connections from Vault: {{CONN_IDS_TEXT}}.

Written by create-secrets-sandbox for Airflow {{AIRFLOW_VERSION}}. Run it with the sandbox env:

    set -a; . {{ENV_FILE}}; set +a
    airflow dags test example_secrets_dag

Each task fetches one connection through BaseHook, the same call every hook makes, and fails
if the secrets backend is not configured, an AIRFLOW_CONN_* variable could have answered instead
of Vault, or the first backend of the task's own chain that holds the connection is not Vault (on
Airflow 3 a task asks [workers] secrets_backend, else [secrets] backend, then env vars, then the
API server, which may answer from its own Vault or the metastore). It logs the connection's fields
but never its password.
"""
from __future__ import annotations

import os
from datetime import datetime

from airflow import DAG

try:  # Airflow 3: the standard provider
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.python import PythonOperator

try:  # Airflow 3.1+
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 2 and 3.0
    from airflow.hooks.base import BaseHook

# conn_id -> task_id, unique per connection (computed by create-secrets-sandbox; `my.db` and `my_db` stay apart).
TASK_IDS = {{TASK_IDS_PY}}
EXPECTED_BACKEND = "{{BACKEND_CLASS}}"


def task_backends():
    """The task's own chain, in the order BaseHook.get_connection asks it, or None when unknown."""
    try:  # Airflow 3: the worker chain of the task process
        from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded

        return ensure_secrets_backend_loaded()
    except ImportError:
        pass
    try:  # Airflow 2
        from airflow.configuration import ensure_secrets_loaded

        return ensure_secrets_loaded()
    except ImportError:
        return None


def answered_by(conn_id: str) -> tuple[str | None, list[str]]:
    """The first backend of the task's chain that holds conn_id, and what the ones before it raised."""
    raised = []
    for backend in task_backends() or []:
        name = type(backend).__name__
        try:
            if backend.get_connection(conn_id=conn_id) is not None:
                return name, raised
        except Exception as e:
            raised.append(f"{name} raised {type(e).__name__}: {str(e)[:300]}")
    return None, raised


def check_connection(conn_id: str) -> None:
    configured = os.environ.get("AIRFLOW__SECRETS__BACKEND", "")
    if configured != EXPECTED_BACKEND:
        raise RuntimeError(
            f"AIRFLOW__SECRETS__BACKEND is {configured!r}, expected {EXPECTED_BACKEND!r}: "
            "load the sandbox env before starting Airflow (set -a; . ./.env; set +a)"
        )
    shadow = "AIRFLOW_CONN_" + conn_id.upper()
    if shadow in os.environ:
        raise RuntimeError(f"{shadow} is set: it would answer for {conn_id!r} whenever Vault does not; unset it")
    conn = BaseHook.get_connection(conn_id)
    backend, raised = answered_by(conn_id)
    if backend not in ("VaultBackend", None):
        said = f" ({'; '.join(raised)})" if raised else ""
        raise RuntimeError(
            f"{conn_id!r} was answered by {backend}, not by Vault: the task's own secrets chain did not find it "
            f"in Vault{said}; on Airflow 3 a task reads [workers] secrets_backend and secrets_backend_kwargs "
            "(AIRFLOW__WORKERS__SECRETS_BACKEND*) when set, else [secrets] backend"
        )
    print(
        f"Resolved {conn_id!r} from {backend or 'the secrets backend'}: conn_type={conn.conn_type!r} host={conn.host!r} "
        f"port={conn.port!r} login={conn.login!r} schema={conn.schema!r} "
        f"password={'set' if conn.password else 'not set'} extra_keys={sorted(conn.extra_dejson)}"
    )
    if not conn.conn_type:
        raise RuntimeError(f"{conn_id!r} resolved without a connection type")


with DAG(
    dag_id="example_secrets_dag",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    tags=["secrets-sandbox"],
):
    for _conn_id, _task_id in TASK_IDS.items():
        PythonOperator(
            task_id=_task_id,
            python_callable=check_connection,
            op_kwargs={"conn_id": _conn_id},
        )
