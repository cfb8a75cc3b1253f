"""Parses connection URIs with real Airflow's Connection, for the differential test.

Reads a JSON list of URIs on stdin; writes a JSON list of {"fields": {...}} or {"error": "..."}.
"""
import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from airflow.models.connection import Connection  # noqa: E402

out = []
for uri in json.load(sys.stdin):
    try:
        c = Connection(conn_id="x", uri=uri)
        out.append({"fields": {
            "conn_type": c.conn_type, "host": c.host, "port": c.port, "login": c.login,
            "password": c.password, "schema": c.schema, "extra": c.extra,
        }})
    except Exception as e:  # Airflow raises ValueError or AirflowException: both mean "rejected"
        out.append({"error": f"{type(e).__name__}: {e}"})
json.dump(out, sys.stdout)
