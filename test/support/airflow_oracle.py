"""
A fork server that answers `airflow ARGS...` the way the `airflow` command would, a few seconds
cheaper per call (test/support/airflow-oracle.ts drives it; the doctor corpus uses it as the oracle).

Run by an Airflow venv's python: `python airflow_oracle.py /path/to/venv/bin/airflow`.
Start-up: the heavy third-party modules the Airflow CLI imports (PRELOAD, measured with
`python -X importtime bin/airflow connections get ...`) are imported once, never `airflow` itself,
so every request still imports Airflow fresh and reads its configuration (environment, airflow.cfg
in AIRFLOW_HOME, *_CMD) exactly as the CLI does. Every environment variable a preloaded module reads
while importing is recorded; a request whose environment gives one of them another value is refused,
since the module would have seen the old one. First line on stdout: {"ready": true, ...}.

Requests: one JSON line on stdin, {"argv": [...], "env": {...}, "cwd": "...", "timeout": seconds}.
Each is answered by a forked child that replaces os.environ wholesale, chdirs, sets sys.argv, runs
the console script's own code (`sys.exit(main())` from airflow.__main__) with stdin from /dev/null
and stdout/stderr in temp files, then exits the way the interpreter would (non-daemon threads
joined, atexit handlers run, stdio flushed). Reply: one JSON line {"code", "stdout", "stderr", "ms"}
({"error": ...} when the request could not be answered faithfully; "timedOut": true when the child
was killed). One request at a time; EOF on stdin ends the server.
"""

import atexit
import ctypes
import gc
import json
import os
import select
import signal
import sys
import tempfile
import threading
import time
import traceback
from importlib import import_module
from importlib.metadata import version

# Whatever a module prints while it is preloaded must not land in the reply stream.
REPLY = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)

SCRIPT = sys.argv[1]
# The console script runs with its own dir as sys.path[0], not this file's dir.
sys.path[0] = os.path.dirname(SCRIPT)

# Roots of the third-party (and a few stdlib) import trees that Airflow's own modules import during
# `airflow connections get`, heaviest first, measured per major with -X importtime. A module missing
# from a venv is skipped. Left out on purpose: fsspec (and upath, which imports it) and croniter,
# which read the whole environment at import (FSSPEC_* keys; `file` run with a copy of it), so the
# check below could not tell whether a call's environment would have changed what they saw.
PRELOAD = {
    "3": """libcst sqlalchemy sqlalchemy.orm structlog hvac jsonschema pydantic
        sqlalchemy.dialects.postgresql jinja2 yaml httpcore annotated_types httpx
        importlib_metadata pathspec.patterns cryptography.fernet
        opentelemetry.sdk.resources pydantic._internal._fields pydantic.plugin._loader
        opentelemetry.sdk.trace pydantic.json_schema logging pydantic._internal._model_construction
        sqlalchemy.dialects.mysql pendulum click sqlalchemy.dialects.sqlite packaging.utils
        pydantic._internal._validators dill tenacity pkgutil sqlalchemy.ext.asyncio subprocess tabulate
        importlib_metadata._adapters secrets typing_extensions cron_descriptor methodtools argcomplete
        opentelemetry.trace msgspec pluggy rich requests cachetools configparser pygtrie
        sqlalchemy.ext.associationproxy sqlalchemy.ext.hybrid""",
    "2": """connexion flask_appbuilder.menu sqlalchemy hvac jwt sqlalchemy.orm pydantic pendulum
        rich.markup yaml jinja2 pathspec.patterns rich.console pydantic.fields attrs
        sqlalchemy.dialects.mysql
        pydantic._internal._model_construction deprecated tabulate rich.syntax dill typing_extensions
        re2 flask_session.sqlalchemy tenacity colorlog sqlalchemy.dialects.sqlite
        pydantic._internal._decorators multiprocessing importlib_metadata pluggy logging methodtools
        sqlalchemy_jsonfield packaging.version packaging.utils argcomplete pydantic._internal._config
        pydantic._internal._mock_val_ser cron_descriptor pydantic._internal._fields
        lazy_object_proxy rich_argparse logging.config smtplib requests sqlite3""",
}


class _Watched(os._Environ):
    """os.environ while preloading: remembers which variables were read (C-level getenv is not seen)."""

    read: dict = {}
    whole = False

    def __getitem__(self, key):
        try:
            value = super().__getitem__(key)
        except KeyError:
            _Watched.read[key] = None
            raise
        _Watched.read[key] = value
        return value

    def __iter__(self):
        _Watched.whole = True
        return super().__iter__()


def preload():
    major = version("apache-airflow").split(".")[0]
    loaded, failed = [], []
    t0 = time.monotonic()
    os.environ.__class__ = _Watched
    try:
        for name in PRELOAD.get(major, "").split():
            try:
                import_module(name)
                loaded.append(name)
            except Exception as e:  # noqa: BLE001 - a missing or broken module is only not preloaded
                failed.append(f"{name}: {type(e).__name__}: {e}")
    finally:
        os.environ.__class__ = os._Environ
    stray = [m for m in sys.modules if m == "airflow" or m.startswith("airflow.")]
    if stray:
        raise SystemExit(f"preloading imported {stray[:3]}: Airflow must be imported fresh by each request")
    return {
        "major": major,
        "preloaded": loaded,
        "failed": failed,
        "envRead": sorted(_Watched.read),
        "envIterated": _Watched.whole,
        "ms": round((time.monotonic() - t0) * 1000),
    }


def _startup_env(env):
    return {k: v for k, v in env.items() if k.startswith("PYTHON") or k in ("LANG", "LC_ALL", "LC_CTYPE")}


# Read by the interpreter as it starts (sys.path, hash seed, stdio and filesystem encodings, ...).
STARTUP_ENV = _startup_env(os.environ)


def refusal(env):
    """Why this environment cannot be served faithfully by this parent, or None."""
    if _startup_env(env) != STARTUP_ENV:
        return "the request's PYTHON*/LANG/LC_* variables differ from the server's; the interpreter reads them as it starts"
    if _Watched.whole:
        return "a preloaded module read the whole environment at import"
    changed = [k for k, v in _Watched.read.items() if env.get(k) != v]
    if changed:
        return f"preloaded modules read {changed} at import, and this request sets other values"
    if threading.active_count() != 1 or len(os.listdir("/proc/self/task")) != 1:
        return "the server has threads; forking it would copy their locks mid-use"
    return None


def exit_code(code):
    """What the interpreter makes of SystemExit(code) (Python/pythonrun.c handle_system_exit)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:  # noqa: BLE001
        pass
    return 1


def child(req, out_fd, err_fd):
    # Die with the server (a test run killed mid-request must leave nothing behind), and lead a
    # process group so a timeout also ends whatever the CLI started (a *_CMD, say).
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    for fd in (null, out_fd, err_fd, REPLY.fileno()):
        os.close(fd)
    os.environ.clear()
    os.environ.update(req["env"])
    time.tzset()
    tempfile.tempdir = None  # computed from TMPDIR etc. on first use, as in a new process
    os.chdir(req.get("cwd") or os.getcwd())
    sys.argv = [SCRIPT, *req["argv"]]
    code = 0
    try:
        try:
            from airflow.__main__ import main

            sys.exit(main())
        except SystemExit as e:
            code = exit_code(e.code)
        except BaseException:  # noqa: BLE001 - as the interpreter: print it, exit 1
            sys.excepthook(*sys.exc_info())
            code = 1
        # What Py_FinalizeEx does before the process ends.
        if hasattr(threading, "_shutdown"):
            threading._shutdown()
        atexit._run_exitfuncs()
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except Exception:  # noqa: BLE001
                pass
    finally:
        os._exit(code)


def serve(req):
    why = refusal(req["env"])
    if why:
        return {"error": why}
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    try:
        t0 = time.monotonic()
        for f in (REPLY, sys.stdout, sys.stderr):
            f.flush()
        pid = os.fork()
        if pid == 0:
            try:
                child(req, out.fileno(), err.fileno())
            except BaseException:  # noqa: BLE001 - the set-up could not be entered (a missing cwd, say)
                traceback.print_exc()
            finally:
                os._exit(70)
        pidfd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([pidfd], [], [], float(req.get("timeout", 120)))
        finally:
            os.close(pidfd)
        timed_out = not ready
        if timed_out:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        ms = round((time.monotonic() - t0) * 1000)
        reply = {"code": os.waitstatus_to_exitcode(status), "ms": ms}
        for key, f in (("stdout", out), ("stderr", err)):
            f.seek(0)
            reply[key] = f.read().decode("utf-8", "replace")
        if timed_out:
            reply["timedOut"] = True
        return reply
    finally:
        out.close()
        err.close()


def lines(fd):
    """Request lines read straight from the fd, so sys.stdin holds nothing a child could inherit."""
    buf = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line


def main():
    info = preload()
    # Prefork practice: what the server holds goes out of the collector's sight, so a child's full
    # collections do not walk (and copy, page by page) the preloaded heap: on Airflow 3 they took
    # ~220 ms of a `connections get` child, ~25 ms frozen. Only when garbage is collected changes,
    # which no output depends on.
    gc.collect()
    gc.freeze()
    REPLY.write(json.dumps({"ready": True, **info}) + "\n")
    REPLY.flush()
    for line in lines(0):
        try:
            reply = serve(json.loads(line))
        except Exception as e:  # noqa: BLE001 - the caller gets the reason, the server goes on
            reply = {"error": "".join(traceback.format_exception_only(e)).strip()}
        REPLY.write(json.dumps(reply) + "\n")
        REPLY.flush()


if __name__ == "__main__":
    main()
