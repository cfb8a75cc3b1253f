"""Drives a command in a real pseudo-terminal, the way a person at a keyboard would.

stdin: {"cmd": [...], "cwd": str, "env": {...}, "steps": [[regex, keys] or [regex, keys, name], ...],
        "timeout": s, "size": [rows, cols]}
Waits for each regex to appear in the screen output (ANSI stripped), then types the keys. A step
with a name records the screen as a person sees it at that moment (rendered by pyte, a terminal
emulator, when it is installed), before the keys are typed; "end" is the screen once the command exits.
stdout: {"code": int, "transcript": str, "stuck_at": null | int, "screens": {name: str}}
"""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

# The transcript works without it; screens need pyte (requirements/test-tools.txt).
try:
    import pyte
except ImportError:
    pyte = None

req = json.load(sys.stdin)
ROWS, COLS = req.get("size", [50, 160])
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
pid, fd = pty.fork()
if pid == 0:
    os.chdir(req["cwd"])
    os.execvpe(req["cmd"][0], req["cmd"], req["env"])

# A real terminal has a size; without one, renderers wrap every character onto its own line.
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

raw = b""
seen_upto = 0
stuck = None
deadline = time.time() + req.get("timeout", 120)
screen = pyte.Screen(COLS, ROWS) if pyte else None
stream = pyte.ByteStream(screen) if pyte else None
screens = {}


def pump(wait):
    global raw
    r, _, _ = select.select([fd], [], [], wait)
    if fd in r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        raw += chunk
        if stream:
            stream.feed(chunk)
    return True


def settle(quiet=0.3, longest=1.0):
    """Reads until the program has drawn nothing new for a moment (a spinner never stops: at most
    `longest` seconds): the screen a person would look at."""
    quiet_since = start = time.time()
    while (
        time.time() - quiet_since < quiet
        and time.time() - start < longest
        and time.time() < deadline
    ):
        before = len(raw)
        if not pump(0.05):
            return
        if len(raw) != before:
            quiet_since = time.time()


def snapshot():
    if not screen:
        return None
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


for i, step in enumerate(req["steps"]):
    pattern, keys = step[0], step[1]
    rx = re.compile(pattern)
    while True:
        text = ANSI.sub("", raw.decode("utf-8", "replace"))
        m = rx.search(text, seen_upto)
        if m:
            seen_upto = m.end()
            break
        if time.time() > deadline or not pump(0.1):
            stuck = i
            break
    if stuck is not None:
        break
    settle()  # let the prompt finish drawing before typing, as a person would
    if len(step) > 2:
        screens[step[2]] = snapshot()
    os.write(fd, keys.encode())

code = None
while time.time() < deadline:
    if not pump(0.1):
        pass
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        while pump(0.05):
            pass
        break
if code is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    code = -9
screens["end"] = snapshot()
json.dump(
    {
        "code": code,
        "transcript": ANSI.sub("", raw.decode("utf-8", "replace")),
        "stuck_at": stuck,
        "screens": screens,
    },
    sys.stdout,
)
