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

With a second argument, a unix socket path, the server also stands in for the venv's python:
`python ARGS` from the shim written beside the socket (airflow-oracle.ts), so a program that runs
Airflow's interpreter (doctor's probe: `python -c CODE` with JSON on stdin) gets the same preloaded
start. The shim sends one JSON line {"python": [ARGS], "env": {...}, "cwd": "..."} with its own
stdin, stdout and stderr as passed file descriptors; a forked child takes those fds, the
environment and the cwd, and runs `-c CODE ARGS`, `-m MODULE ARGS` or `SCRIPT ARGS` as the
interpreter would (sys.argv, sys.path[0], __main__). Reply: {"code": N}, or {"error": ...} when it
cannot be run faithfully (an interpreter flag, an environment a preloaded module read otherwise):
the shim then execs the real interpreter. A shim that goes away takes its child with it.
"""

import atexit
import ctypes
import gc
import json
import os
import runpy
import select
import signal
import socket
import sys
import types
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
# check below could not tell whether a call's environment would have changed what they saw; and
# hvac, which reads VAULT_CACERT, VAULT_CAPATH and VAULT_CLIENT_CERT/KEY into module constants
# (hvac/constants/client.py) that set-ups vary.
PRELOAD = {
    "3": """libcst sqlalchemy sqlalchemy.orm structlog jsonschema pydantic
        sqlalchemy.dialects.postgresql jinja2 yaml httpcore annotated_types httpx
        importlib_metadata pathspec.patterns cryptography.fernet
        opentelemetry.sdk.resources pydantic._internal._fields pydantic.plugin._loader
        opentelemetry.sdk.trace pydantic.json_schema logging pydantic._internal._model_construction
        sqlalchemy.dialects.mysql pendulum click sqlalchemy.dialects.sqlite packaging.utils
        pydantic._internal._validators dill tenacity pkgutil sqlalchemy.ext.asyncio subprocess tabulate
        importlib_metadata._adapters secrets typing_extensions cron_descriptor methodtools argcomplete
        opentelemetry.trace msgspec pluggy rich requests cachetools configparser pygtrie
        sqlalchemy.ext.associationproxy sqlalchemy.ext.hybrid""",
    "2": """connexion flask_appbuilder.menu sqlalchemy jwt sqlalchemy.orm pydantic pendulum
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


def enter(req, fds, close):
    """In a forked child: die with the server, lead a process group, take the request's stdio, environment and cwd."""
    # Die with the server (a test run killed mid-request must leave nothing behind), and lead a
    # process group so a timeout also ends whatever the call started (a *_CMD, say).
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in {*fds, *close}:
        if fd > 2:
            os.close(fd)
    os.environ.clear()
    os.environ.update(req["env"])
    time.tzset()
    tempfile.tempdir = None  # computed from TMPDIR etc. on first use, as in a new process
    os.chdir(req.get("cwd") or os.getcwd())


def finish(run):
    """Runs `run` as the interpreter runs a program, then ends the process as the interpreter would."""
    code = 0
    try:
        try:
            run()
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


def child(req, out_fd, err_fd, close):
    null = os.open(os.devnull, os.O_RDONLY)
    enter(req, [null, out_fd, err_fd], [*close, REPLY.fileno()])
    sys.argv = [SCRIPT, *req["argv"]]

    def run():
        from airflow.__main__ import main

        sys.exit(main())

    finish(run)


def python_program(args):
    """How `python ARGS` runs: ("-c", code, argv) / ("-m", module, argv) / ("script", path, argv); None if not supported."""
    if len(args) >= 2 and args[0] == "-c":
        return ("-c", args[1], ["-c", *args[2:]])
    if len(args) >= 2 and args[0] == "-m":
        return ("-m", args[1], [args[1], *args[2:]])
    if args and not args[0].startswith("-"):
        return ("script", args[0], list(args))
    return None


def python_child(req, fds, close):
    enter(req, fds, [*close, REPLY.fileno()])
    kind, what, argv = python_program(req["python"])
    sys.argv = argv

    def run():
        if kind == "-c":
            sys.path[0] = ""
            main = types.ModuleType("__main__")
            main.__builtins__ = __builtins__
            sys.modules["__main__"] = main
            exec(compile(what, "<string>", "exec"), main.__dict__)
        elif kind == "-m":
            sys.path[0] = os.getcwd()
            runpy.run_module(what, run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = os.path.dirname(os.path.realpath(what))
            runpy.run_path(what, run_name="__main__")

    finish(run)


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
                child(req, out.fileno(), err.fileno(), LISTENING)
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


def recv_request(conn):
    """One JSON line from the shim, with the fds it passed along."""
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    buf = msg
    while not buf.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            break
        buf += more
    return json.loads(buf), fds


def serve_python(conn):
    """Runs `python ARGS` for the shim; the child ends when the shim goes away (its connection closes)."""
    fds = []
    try:
        req, fds = recv_request(conn)
        why = refusal(req["env"])
        if why is None and (len(fds) != 3 or python_program(req["python"]) is None):
            why = "not a python invocation the server runs (an interpreter flag?)"
        if why:
            return {"error": why}
        for f in (REPLY, sys.stdout, sys.stderr):
            f.flush()
        pid = os.fork()
        if pid == 0:
            try:
                python_child(req, fds, [*LISTENING, conn.fileno()])
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        fds = []
        pidfd = os.pidfd_open(pid)
        try:
            while True:
                ready, _, _ = select.select([pidfd, conn], [], [])
                if pidfd in ready:
                    break
                if conn in ready and not conn.recv(1, socket.MSG_PEEK):
                    os.killpg(pid, signal.SIGKILL)
                    break
        finally:
            os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        return {"code": os.waitstatus_to_exitcode(status)}
    finally:
        for fd in fds:
            os.close(fd)


# The shim's socket (listening), closed in every child.
LISTENING = []


def main():
    info = preload()
    listener = None
    if len(sys.argv) > 2:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(sys.argv[2])
        listener.listen(4)
        LISTENING.append(listener.fileno())
    # Prefork practice: what the server holds goes out of the collector's sight, so a child's full
    # collections do not walk (and copy, page by page) the preloaded heap: on Airflow 3 they took
    # ~220 ms of a `connections get` child, ~25 ms frozen. Only when garbage is collected changes,
    # which no output depends on.
    gc.collect()
    gc.freeze()
    REPLY.write(json.dumps({"ready": True, **info}) + "\n")
    REPLY.flush()
    # Request lines are read straight from the fd, so sys.stdin holds nothing a child could inherit.
    buf = b""
    while True:
        ready, _, _ = select.select([0, *([listener] if listener else [])], [], [])
        if listener in ready:
            conn, _ = listener.accept()
            with conn:
                try:
                    reply = serve_python(conn)
                except Exception as e:  # noqa: BLE001 - the shim falls back to the real interpreter
                    reply = {"error": "".join(traceback.format_exception_only(e)).strip()}
                try:
                    conn.sendall((json.dumps(reply) + "\n").encode())
                except OSError:
                    pass
        if 0 not in ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                reply = serve(json.loads(line))
            except Exception as e:  # noqa: BLE001 - the caller gets the reason, the server goes on
                reply = {"error": "".join(traceback.format_exception_only(e)).strip()}
            REPLY.write(json.dumps(reply) + "\n")
            REPLY.flush()


if __name__ == "__main__":
    main()
