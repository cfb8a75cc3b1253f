/**
 * The Python half of the run driver (see driver.ts). It runs in the Python of the user's Airflow
 * with the components' environment and uses Airflow's own code, as `airflow dags unpause` and
 * `airflow dags trigger` do:
 *  - waits until the DAG file was parsed after the components started (DagModel.last_parsed_time),
 *    or reports the import error the DAG processor recorded for it;
 *  - says so, then waits for one line on stdin: the components are healthy, go;
 *  - unpauses the DAG, triggers a run through Airflow's local API client;
 *  - reports each task's state as it changes, then the run's end with each task's log file.
 * Every report is one JSON line after a marker, so Airflow's own output on stdout cannot be mistaken
 * for one. Kept as a string so the package ships it without a copy step; no `${` or backticks inside.
 */
export const DRIVER_MARKER = '__CSS_RUN__';

export const DRIVER_PY = String.raw`
import json, os, sys, time, warnings

warnings.simplefilter("ignore")
REQ = json.loads(sys.stdin.readline())
MARK = "__CSS_RUN__"
T0 = time.time()


def emit(**kw):
    sys.stdout.write("\n" + MARK + json.dumps(kw, default=str) + "\n")
    sys.stdout.flush()


def state_name(s):
    # An enum on newer Airflow (DagRunState.SUCCESS), a plain string on older ones.
    return None if s is None else str(getattr(s, "value", s))


from sqlalchemy import select, update
from airflow.configuration import conf
from airflow.utils.session import create_session
from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.errors import ParseImportError

emit(event="imported", seconds=time.time() - T0)
dag_id = REQ["dag_id"]
since = REQ["since"]
dag_file = os.path.basename(REQ["dag_file"])
poll = REQ.get("poll", 0.5)


def fresh_import_error(session):
    for e in session.scalars(select(ParseImportError)).all():
        if os.path.basename(e.filename or "") == dag_file and e.timestamp and e.timestamp.timestamp() >= since:
            return e
    return None


while True:
    with create_session() as session:
        err = fresh_import_error(session)
        if err is not None:
            emit(event="import_error", file=err.filename, stacktrace=(err.stacktrace or "")[-4000:])
            sys.exit(3)
        dm = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
        if dm is not None and dm.last_parsed_time is not None and dm.last_parsed_time.timestamp() >= since:
            break
    time.sleep(poll)
emit(event="parsed", seconds=time.time() - T0)

if sys.stdin.readline().strip() != "go":
    sys.exit(0)
with create_session() as session:
    session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=False))
from airflow.api.client import get_current_api_client

run = get_current_api_client().trigger_dag(dag_id=dag_id)
run_id = run["dag_run_id"]
emit(event="triggered", run_id=run_id, seconds=time.time() - T0)


def log_file(handler, ti, session):
    try:
        try:
            rel = handler._render_filename(ti, ti.try_number, session=session)
        except TypeError:
            rel = handler._render_filename(ti, ti.try_number)
        return os.path.join(conf.get("logging", "base_log_folder"), rel)
    except Exception:
        return None


seen = {}
while True:
    with create_session() as session:
        dr = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
        for ti in sorted(tis, key=lambda t: t.task_id):
            now = (state_name(ti.state), ti.try_number)
            if seen.get(ti.task_id) != now:
                seen[ti.task_id] = now
                emit(event="task", task_id=ti.task_id, state=now[0], try_number=now[1])
        state = state_name(dr.state) if dr is not None else None
        if state in ("success", "failed"):
            from airflow.utils.log.file_task_handler import FileTaskHandler

            handler = FileTaskHandler(base_log_folder=conf.get("logging", "base_log_folder"))
            tasks = [
                {"task_id": ti.task_id, "state": state_name(ti.state), "log": log_file(handler, ti, session)}
                for ti in sorted(tis, key=lambda t: t.task_id)
            ]
            emit(event="done", state=state, run_id=run_id, tasks=tasks, seconds=time.time() - T0)
            break
    time.sleep(poll)
`;
