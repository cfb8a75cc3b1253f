"""Drives a command in a real pseudo-terminal, the way a person at a keyboard would.

stdin: {"cmd": [...], "cwd": str, "env": {...}, "steps": [[regex, keys], ...], "timeout": s}
Waits for each regex to appear in the screen output (ANSI stripped), then types the keys.
stdout: {"code": int, "transcript": str, "stuck_at": null | int}
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

req = json.load(sys.stdin)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
pid, fd = pty.fork()
if pid == 0:
    os.chdir(req["cwd"])
    os.execvpe(req["cmd"][0], req["cmd"], req["env"])

# A real terminal has a size; without one, renderers wrap every character onto its own line.
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))

raw = b""
seen_upto = 0
stuck = None
deadline = time.time() + req.get("timeout", 120)


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
    return True


for i, (pattern, keys) in enumerate(req["steps"]):
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
    time.sleep(0.15)  # let the prompt finish drawing before typing, as a person would
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
json.dump({"code": code, "transcript": ANSI.sub("", raw.decode("utf-8", "replace")), "stuck_at": stuck}, sys.stdout)
