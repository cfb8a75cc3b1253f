"""Parses a DAG folder with real Airflow's DagBag, as the scheduler does.

argv: dag folder, output file (Airflow 3 logs to stdout). Writes {"errors": {file: message}, "tasks": {dag_id: [task ids]}}.
"""
import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
except ImportError:
    from airflow.models.dagbag import DagBag  # noqa: E402

try:
    bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
except TypeError:  # Airflow 3.3 dropped include_examples (examples are a bundle of their own)
    bag = DagBag(dag_folder=sys.argv[1])
with open(sys.argv[2], "w") as out:
    json.dump({"errors": {k: str(v)[-400:] for k, v in bag.import_errors.items()}, "tasks": {d: sorted(t.task_id for t in dag.tasks) for d, dag in bag.dags.items()}}, out)
