#!/usr/bin/env python3
"""CPU per request: a site served by a process group (connection handed over
with SCM_RIGHTS) against the same hello handler served in the worker, in one
server, one run. Each case runs wrk with keep-alive (one hand-off per
connection) and with `Connection: close` (one hand-off per request).
CPU = user + system time of the supervisor and all its children (workers and
group processes), from /proc, over the wrk run.
Usage: bench/process_groups.py [BUILD_BINARY] [SECONDS per case, default 5]
Small and bounded: 4 cases x SECONDS, 1 wrk thread, 8 connections."""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import conftest  # noqa: E402

HELLO = """
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("Hello, world!")
    return apache.OK
"""

SITES = """
[[site]]
server_name = "inproc.test"
default = true
document_root = "../app"
handler = "hello"

[[site]]
server_name = "group.test"
document_root = "../app"
handler = "hello"
process_group = "g"
"""

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root_pid):
    """Seconds of user+system CPU of root_pid and every live descendant."""
    parents = {}
    times = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(name)] = int(fields[1])
        times[int(name)] = (int(fields[11]) + int(fields[12])) / TICK
    total = 0.0
    for pid in times:
        p = pid
        while p in parents and p != root_pid and p > 1:
            p = parents[p]
        if p == root_pid:
            total += times[pid]
    return total


def wrk(port, host, seconds, close):
    cmd = ["wrk", "-t1", "-c8", "-d%ds" % seconds, "-H", "Host: " + host]
    if close:
        cmd += ["-H", "Connection: close"]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d/" % port], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    m = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return int(m.group(1)) if m else 0, int(errors.group(1)) if errors else 0


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else conftest.BINARY
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    conftest.BINARY = binary
    tmp = tempfile.mkdtemp(prefix="subhttpd-groups-bench-")
    files = {
        "server.toml": conftest.SERVER_TOML.format(reload="off", debug="false", access_log="off",
                                                   server_extra="", python_extra="")
        + '\n[[process_group]]\nname = "g"\nprocesses = 1\n',
        "sites.d/s.toml": SITES,
        "app/hello.py": HELLO,
    }
    conftest.write_tree(tmp, files)
    srv = conftest.Server(tmp, os.path.join(tmp, "server.toml"), conftest.free_port())
    srv.start()
    try:
        for host in ("inproc.test", "group.test"):  # warm both (interpreters, first hand-off)
            assert srv.get("/", host=host).status == 200, srv.log()
        print("case                          requests   req/s     CPU s   CPU us/request   non-2xx")
        for close in (False, True):
            for host in ("inproc.test", "group.test"):
                c0 = tree_cpu(srv.proc.pid)
                n, bad = wrk(srv.port, host, seconds, close)
                c1 = tree_cpu(srv.proc.pid)
                label = "%s %s" % ("process group" if host == "group.test" else "in worker",
                                   "(close)" if close else "(keep-alive)")
                per = (c1 - c0) / n * 1e6 if n else float("nan")
                print("%-28s %9d %8.0f %8.2f %15.1f %9d" % (label, n, n / seconds, c1 - c0, per, bad))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
