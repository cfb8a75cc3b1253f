"""Proves that Airflow 1.10 resolves these connections from Vault: {{CONN_IDS_TEXT}}.

Written by create-secrets-sandbox. Run it with the sandbox env:

    set -a; . {{ENV_FILE}}; set +a
    airflow test example_secrets_dag {{FIRST_TASK}} 2024-01-01

It logs each connection's fields but never its password.
"""
import os
from datetime import datetime

from airflow import DAG
from airflow.hooks.base_hook import BaseHook
from airflow.operators.python_operator import PythonOperator

# conn_id -> task_id, unique per connection (computed by create-secrets-sandbox; `my.db` and `my_db` stay apart).
TASK_IDS = {{TASK_IDS_PY}}
EXPECTED_BACKEND = "{{BACKEND_CLASS}}"


def check_connection(conn_id, **_):
    backend = os.environ.get("AIRFLOW__SECRETS__BACKEND", "")
    if backend != EXPECTED_BACKEND:
        raise RuntimeError("AIRFLOW__SECRETS__BACKEND is %r, expected %r" % (backend, EXPECTED_BACKEND))
    shadow = "AIRFLOW_CONN_" + conn_id.upper()
    if shadow in os.environ:
        raise RuntimeError("%s is set: it would answer for %r whenever Vault does not; unset it" % (shadow, conn_id))
    conn = BaseHook.get_connection(conn_id)
    print("Resolved %r: conn_type=%r host=%r port=%r login=%r schema=%r password=%s" % (
        conn_id, conn.conn_type, conn.host, conn.port, conn.login, conn.schema,
        "set" if conn.password else "not set"))


dag = DAG(
    dag_id="example_secrets_dag",
    start_date=datetime(2024, 1, 1),
    schedule_interval=None,
    catchup=False,
)

for _conn_id, _task_id in sorted(TASK_IDS.items()):
    PythonOperator(
        task_id=_task_id,
        python_callable=check_connection,
        op_kwargs={"conn_id": _conn_id},
        provide_context=True,
        dag=dag,
    )
