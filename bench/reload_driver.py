#!/usr/bin/python3
"""Helpers of bench/reload.sh (run with Debian's /usr/bin/python3).

  reload_driver.py edit FILE MODE RATE SECONDS [PID]
      Rewrites the site file FILE RATE times a second for SECONDS, changing its
      `options = { rev = "N" }` each time. MODE "rename" writes a temporary file
      next to it and renames it over FILE (what editors do); "inplace" truncates
      and rewrites FILE (what `echo > FILE` does: a watcher may see it empty).
      With PID, sends SIGHUP to PID after every edit. Paced on a monotonic clock
      (no drift). Prints "edits N signals M seconds S".

  reload_driver.py timed PORT PID N FILE
      N times: edit FILE (rename), note config_generation from
      GET /server-status?json, send SIGHUP to PID, poll the status page until the
      generation moves on, and print the server's own last_reload.ms and ok, and
      the CPU time the server's threads spent meanwhile (schedstat, minus the
      status polls at their measured cost). Prints one line per reload:
      "ms OK|FAILED generation cpu_ms polls" after a "# status request" line.
"""
import json
import re
import os
import signal
import sys
import time
import urllib.request

def write_site(path, mode, rev, template):
    text = template.replace("@REV@", str(rev))
    if mode == "rename":
        d, base = os.path.split(path)
        tmp = os.path.join(d, "." + base + ".tmp")  # not *.toml: the sites glob never sees it
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    else:
        with open(path, "w") as f:
            f.write(text)


def template_of(path):
    with open(path) as f:
        text = f.read()
    t, n = re.subn(r'rev = "[^"]*"', 'rev = "@REV@"', text)
    if n != 1:
        sys.exit(f"{path}: no `rev = \"...\"` option to change")
    return t


def edit(path, mode, rate, seconds, pid=None):
    template = template_of(path)
    period = 1.0 / rate
    t0 = time.monotonic()
    edits = signals = 0
    while True:
        due = t0 + edits * period
        now = time.monotonic()
        if due - t0 >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        write_site(path, mode, edits + 1, template)
        if pid:
            os.kill(pid, signal.SIGHUP)
            signals += 1
        edits += 1
    print(f"edits {edits} signals {signals} seconds {time.monotonic() - t0:.2f}")


def status(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/server-status?json",
                                 headers={"Host": "127.0.0.1"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def tree(pid):
    """pid and its descendants (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_ns(pid):
    """CPU time (ns, from schedstat) of every thread of pid's process tree."""
    total = 0
    for p in tree(pid):
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def timed(port, pid, n, path):
    template = template_of(path)
    # the CPU cost of one status request, to take the polls out of the reload's CPU
    status(port)
    c0 = cpu_ns(pid)
    for _ in range(10):
        status(port)
    per_status = (cpu_ns(pid) - c0) / 10
    print(f"# status request: {per_status / 1e6:.3f} ms CPU", flush=True)
    for i in range(n):
        write_site(path, "rename", f"t{i + 1}", template)
        gen = status(port)["config_generation"]
        c0 = cpu_ns(pid)
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        polls = 0
        while True:
            time.sleep(0.005)
            s = status(port)
            polls += 1
            if s["config_generation"] > gen:
                break
            if time.monotonic() > deadline:
                sys.exit(f"reload {i + 1}: the generation did not move from {gen} within 10 s")
        cpu = max(0.0, (cpu_ns(pid) - c0 - polls * per_status) / 1e6)
        lr = s["last_reload"]
        print(f"{lr['ms']} {'OK' if lr['ok'] else 'FAILED'} {s['config_generation']} {cpu:.3f} {polls}", flush=True)
        time.sleep(0.05)


def main(argv):
    if len(argv) >= 5 and argv[1] == "edit":
        edit(argv[2], argv[3], float(argv[4]), float(argv[5]), int(argv[6]) if len(argv) > 6 else None)
    elif len(argv) == 6 and argv[1] == "timed":
        timed(int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
