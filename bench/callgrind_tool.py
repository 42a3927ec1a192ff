#!/usr/bin/python3
"""bench/callgrind_tool.py: the two helpers of bench/callgrind.sh.

  callgrind_tool.py client PORT PATH COUNT
      COUNT keep-alive GET requests, one after the other, over ONE connection to
      127.0.0.1:PORT (Host 127.0.0.1:PORT, no other header, as wrk sends); checks
      each answer is 200 with "Hello, world!\\n" (Content-Length or chunked).
      Exit status 0 when all COUNT succeeded.

  callgrind_tool.py diff N TOP RUN_FILES... -- BASE_FILES...
      Instructions (Ir) per request: (Ir of the run - Ir of the baseline run) / N,
      where each run may have written several callgrind files (one per process).
      Prints "total_ir_run total_ir_base ir_per_request" on the first line, then the
      TOP functions by self Ir per request (the difference of the two runs), one
      "ir_per_request<TAB>function" a line.
"""
import re
import socket
import subprocess
import sys


def client(port, path, count):
    host = f"127.0.0.1:{port}"
    req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise ConnectionError("connection closed by the server")
            buf += d

    def line():
        nonlocal buf
        while b"\r\n" not in buf:
            need(len(buf) + 1)
        i = buf.index(b"\r\n")
        out, buf = buf[:i], buf[i + 2:]
        return out

    for k in range(count):
        s.sendall(req)
        while b"\r\n\r\n" not in buf:
            need(len(buf) + 1)
        i = buf.index(b"\r\n\r\n")
        head, buf = buf[:i].decode("latin-1"), buf[i + 4:]
        lines = head.split("\r\n")
        status = lines[0].split(" ")
        fields = {}
        for ln in lines[1:]:
            name, _, value = ln.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            n = int(fields["content-length"])
            need(n)
            body, buf = buf[:n], buf[n:]
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(line().split(b";")[0], 16)
                if size == 0:
                    while line():  # trailers up to the empty line
                        pass
                    break
                need(size + 2)
                body, buf = body + buf[:size], buf[size + 2:]
        else:
            raise ValueError(f"request {k}: neither Content-Length nor chunked: {head!r}")
        if len(status) < 2 or status[1] != "200" or body != b"Hello, world!\n":
            raise ValueError(f"request {k}: unexpected answer {lines[0]!r} {body[:40]!r}")
        if fields.get("connection", "").lower() == "close":
            raise ConnectionError(f"request {k}: the server closes the connection")
    s.close()


def totals(files):
    """Sum of the "totals:" (else "summary:") Ir of callgrind output files."""
    t = 0
    for f in files:
        found = {}
        with open(f, encoding="utf-8", errors="replace") as fh:
            for ln in fh:
                for key in ("totals:", "summary:"):
                    if ln.startswith(key):
                        found[key] = int(ln.split()[1])
        t += found.get("totals:", found.get("summary:", 0))
    return t


def short(name):
    """"file:function(args) const" -> "function()": the file and the argument list dropped."""
    _, sep, fn = name.partition(":")
    fn = fn if sep else name
    fn = re.sub(r"\s+const$", "", fn)
    if fn.endswith(")"):
        depth = 0
        for i in range(len(fn) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(fn[i], 0)
            if depth == 0:
                fn = fn[:i] + "()"
                break
    return fn


LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*?)\s*$")


def self_costs(files):
    """function -> self Ir, from callgrind_annotate over each file."""
    out = {}
    for f in files:
        text = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", f],
                              capture_output=True, text=True, check=False).stdout
        started = False
        for ln in text.splitlines():
            if not started:
                # the function table follows the line of dashes after "Ir  file:function"
                if "file:function" in ln:
                    started = True
                continue
            m = LINE.match(ln)
            if not m:
                continue
            name = m.group(2)
            obj = re.search(r"\s*\[([^\]]*)\]$", name)
            where = obj.group(1).rsplit("/", 1)[-1] if obj else ""
            if obj:
                name = name[:obj.start()]
            name = short(name)
            if name.startswith("0x") and where:  # no symbol: say which object it is in
                name += " in " + where
            out[name] = out.get(name, 0) + int(m.group(1).replace(",", ""))
    return out


def diff(n, top, run, base):
    tr, tb = totals(run), totals(base)
    print(f"{tr} {tb} {(tr - tb) / n:.0f}")
    a, b = self_costs(run), self_costs(base)
    per = sorted(((a.get(k, 0) - b.get(k, 0)) / n, k) for k in set(a) | set(b))
    for v, k in reversed(per[-top:]):
        if v >= 0.5:
            print(f"{v:.0f}\t{k}")


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "client":
        try:
            client(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        except (OSError, ValueError) as e:
            print(f"client: {e}", file=sys.stderr)
            return 1
        return 0
    if len(sys.argv) >= 5 and sys.argv[1] == "diff" and "--" in sys.argv:
        i = sys.argv.index("--")
        diff(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:i], sys.argv[i + 1:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
