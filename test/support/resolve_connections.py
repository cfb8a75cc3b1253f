"""Resolves connections through the hashicorp provider's real VaultBackend, as Airflow does.

Reads a JSON list of conn ids on stdin; the backend's kwargs come from the environment (the
sandbox's .env). Writes {conn_id: {field: value} | null} with every field a backend can set.
"""
import json
import logging
import os
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from airflow.providers.hashicorp.secrets.vault import VaultBackend  # noqa: E402

FIELDS = ["conn_type", "description", "host", "login", "password", "schema", "port", "extra"]
backend = VaultBackend(**json.loads(os.environ["AIRFLOW__SECRETS__BACKEND_KWARGS"]))
out = {}
for conn_id in json.load(sys.stdin):
    c = backend.get_connection(conn_id)
    out[conn_id] = None if c is None else {k: getattr(c, k, None) for k in FIELDS}
json.dump(out, sys.stdout)
