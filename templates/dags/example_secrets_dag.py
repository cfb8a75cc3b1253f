"""Proves that Airflow resolves these connections from Vault: {{CONN_IDS_TEXT}}.

Written by create-secrets-sandbox for Airflow {{AIRFLOW_VERSION}}. Run it with the sandbox env:

    set -a; . {{ENV_FILE}}; set +a
    airflow dags test example_secrets_dag

Each task fetches one connection through BaseHook, the same call every hook makes, and fails
if the secrets backend is not configured or an AIRFLOW_CONN_* variable could have answered
instead of Vault. It logs the connection's fields but never its password.
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


def check_connection(conn_id: str) -> None:
    backend = os.environ.get("AIRFLOW__SECRETS__BACKEND", "")
    if backend != EXPECTED_BACKEND:
        raise RuntimeError(
            f"AIRFLOW__SECRETS__BACKEND is {backend!r}, expected {EXPECTED_BACKEND!r}: "
            "load the sandbox env before starting Airflow (set -a; . ./.env; set +a)"
        )
    shadow = "AIRFLOW_CONN_" + conn_id.upper()
    if shadow in os.environ:
        raise RuntimeError(f"{shadow} is set: it would answer for {conn_id!r} whenever Vault does not; unset it")
    conn = BaseHook.get_connection(conn_id)
    print(
        f"Resolved {conn_id!r} from the secrets backend: conn_type={conn.conn_type!r} host={conn.host!r} "
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
