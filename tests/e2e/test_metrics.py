"""Metrics and the status page (issue 14 point 6): Prometheus text counted per
site, interpreter and code; the duration histogram and bytes; with workers = 2
and recycling, totals that never go backwards whichever worker answers; the
status_allow list; the status page's version, PIDs, RSS and refresh, in
headless Chromium. Every loop is bounded; every server is stopped by its PID."""

import json
import re
import pytest

from conftest import chromium, dump_dom, run_cli

APP = """
import time
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    what = req.uri.rsplit("/", 1)[-1]
    if what == "missing":
        return apache.HTTP_NOT_FOUND
    if what == "boom":
        raise RuntimeError("boom")
    if what == "slow":
        time.sleep(0.3)
    if what.startswith("n"):
        req.write("x" * int(what[1:]))
        return apache.OK
    req.write("ok")
    return apache.OK
"""

SITES = """
[[site]]
server_name = "a.test"
document_root = "../app"
handler = "app"

[[site.location]]
path = "/other"
handler = "app"
interpreter = "second"

[[site]]
server_name = "b.test"
document_root = "../static"
"""


def tree():
    return {"sites.d/s.toml": SITES, "app/app.py": APP, "static/f.txt": "hello static\n"}


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Prometheus text -> {(name, ((label, value), ...)): float}; checks HELP/TYPE come first."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, "no TYPE line before %s" % name
        key = (name, tuple(sorted(LABEL.findall(labels or ""))))
        assert key not in out, "duplicate series %r" % (key,)
        out[key] = float(value)
    return out


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(srv):
    r = srv.get("/server-status?metrics")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def test_codes_counted_per_site_and_interpreter(make_server):
    srv = make_server(tree(), server_extra='status = "/server-status"\naccess_log_format = "json"')
    for path, code in [("/x", 200), ("/y", 200), ("/z", 200), ("/missing", 404), ("/missing", 404), ("/boom", 500)]:
        assert srv.get(path, host="a.test").status == code
    assert srv.get("/other/q", host="a.test").status == 200
    assert srv.get("/f.txt", host="b.test").status == 200
    assert srv.get("/f.txt", host="b.test").status == 200
    assert srv.get("/nope.txt", host="b.test").status == 404
    m = scrape(srv)
    req = "subhttpd_http_requests_total"
    assert value(m, req, site="a.test", interpreter="a.test", code="200") == 3
    assert value(m, req, site="a.test", interpreter="a.test", code="404") == 2
    assert value(m, req, site="a.test", interpreter="a.test", code="500") == 1
    assert value(m, req, site="a.test", interpreter="second", code="200") == 1
    assert value(m, req, site="b.test", interpreter="", code="200") == 2
    assert value(m, req, site="b.test", interpreter="", code="404") == 1
    # the conventions: build info, standard process metrics, per-process series
    assert any(k[0] == "subhttpd_build_info" for k in m)
    assert value(m, "process_resident_memory_bytes") > 1e6
    assert value(m, "subhttpd_workers") == 1
    assert value(m, "subhttpd_process_resident_memory_bytes", worker="supervisor", pid=str(srv.proc.pid)) > 0
    # the access log names the site (a line is written once its answer is sent: bounded wait)
    def access_lines():
        lines = [json.loads(l) for l in srv.log().splitlines() if l.startswith('{"time"')]
        return lines if any(l["target"].startswith("/server-status") for l in lines) else None
    lines = srv.wait_for(access_lines, timeout=10)
    assert lines, srv.log()[-2000:]
    sites = {(l["target"], l["site"]) for l in lines}
    assert ("/x", "a.test") in sites and ("/f.txt", "b.test") in sites, sites
    assert all(l["site"] is None for l in lines if l["target"].startswith("/server-status"))


def test_histogram_counts_match_requests_and_bytes(make_server):
    srv = make_server(tree(), server_extra='status = "/server-status"')
    sizes = [0, 1, 10, 1000, 65536]
    for n in sizes:
        r = srv.get("/n%d" % n, host="a.test")
        assert r.status == 200 and len(r.body) == n
    assert srv.get("/slow", host="a.test").text == "ok"
    m = scrape(srv)
    count = len(sizes) + 1
    h = "subhttpd_http_request_duration_seconds"
    assert value(m, h + "_count", site="a.test") == count
    assert value(m, h + "_bucket", site="a.test", le="+Inf") == count
    bounds = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                    if k[0] == h + "_bucket" and dict(k[1])["site"] == "a.test" and dict(k[1])["le"] != "+Inf")
    assert len(bounds) >= 10 and all(a[1] <= b[1] for a, b in zip(bounds, bounds[1:])), bounds
    # the slow request slept 0.3 s: it is in no bucket at or under 0.25 s
    assert dict(bounds)[0.25] <= count - 1
    assert value(m, h + "_sum", site="a.test") >= 0.3
    assert value(m, "subhttpd_http_response_bytes_total", site="a.test") == sum(sizes) + 2
    assert value(m, "subhttpd_http_requests_total", site="a.test", interpreter="a.test", code="200") == count


def test_two_workers_totals_never_go_backwards(make_server):
    """Every read may land on either worker, and workers are recycled every few
    requests (their counters fold into the retired slot): sums only grow."""
    srv = make_server(tree(), server_extra='workers = 2\nmax_requests = 8\nstatus = "/server-status"')
    req = "subhttpd_http_requests_total"
    last = {}
    answered_by, done, recycled = set(), 0, 0
    for i in range(400):  # bounded; ends once workers were recycled (folded) twice
        if i >= 40 and recycled >= 2:
            break
        r = srv.get("/n%d" % (i % 7), host="a.test")
        assert r.status == 200
        done += 1
        text = srv.get("/server-status?metrics").text
        m = parse(text)
        now = {
            "ok": value(m, req, site="a.test", interpreter="a.test", code="200"),
            "all": value(m, "subhttpd_requests_total"),
            "count": value(m, "subhttpd_http_request_duration_seconds_count", site="a.test"),
            "bytes": value(m, "subhttpd_http_response_bytes_total", site="a.test"),
            "cpu": value(m, "process_cpu_seconds_total"),
            "recycles": value(m, "subhttpd_worker_recycles_total"),
        }
        for k in now:
            assert now[k] >= last.get(k, 0.0), (i, k, last.get(k), now[k])
        assert now["ok"] <= done
        last = now
        recycled = now["recycles"]
        answered_by.update(k[1] for k in m if k[0] == "subhttpd_interpreters_retired")
    # the last request is counted once its worker has run its access hook (bounded wait)
    final = srv.wait_for(lambda: value(scrape(srv), req, site="a.test", interpreter="a.test", code="200") == done,
                         timeout=10)
    assert final
    m = scrape(srv)
    assert value(m, "subhttpd_worker_recycles_total") >= 2
    assert value(m, "subhttpd_workers") >= 2
    places = {dict(k[1])["worker"] for k in m if k[0] == "subhttpd_process_resident_memory_bytes"}
    assert {"supervisor", "0", "1"} <= places, places
    assert len(answered_by) >= 3  # reads were answered by several worker processes (recycling alone makes new ones)


def test_status_allow_with_forwarded_clients(make_server):
    srv = make_server(tree(), server_extra='status = "/server-status"\ntrusted_proxies = ["127.0.0.1"]\n'
                                           'status_allow = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]')
    def code(xff=None):
        return srv.get("/server-status?json", headers={"X-Forwarded-For": xff} if xff else None).status
    assert code() == 200  # loopback itself: always allowed
    assert code("10.1.2.3") == 200
    assert code("192.0.2.7") == 200
    assert code("2001:db8::5") == 200
    assert code("192.0.2.8") == 403
    assert code("11.0.0.1") == 403
    assert code("2001:db9::1") == 403
    assert code("10.1.2.3, unknown") == 403  # a junk hop is the client, never the proxy behind it
    assert code("203.0.113.9, 10.0.0.1") == 200  # 10.0.0.1 is not a trusted proxy: it is the client


def test_status_allow_errors_at_check(tmp_path):
    (tmp_path / "server.toml").write_text('[server]\nstatus = "/s"\nstatus_allow = ["10.0.0.0/8", "10.0.0.1/8"]\n')
    p = run_cli("check", "-c", str(tmp_path / "server.toml"))
    assert p.returncode == 1
    assert "server.toml:3:31: status_allow: '10.0.0.1/8' has host bits set beyond /8" in p.stdout + p.stderr


def test_status_json_and_html_show_version_pids_and_refresh(make_server):
    srv = make_server(tree(), server_extra='workers = 2\nstatus = "/server-status"')
    version = run_cli("--version").stdout.split()[1]
    st = srv.get("/server-status?json").json()
    assert st["version"] == version
    assert st["supervisor"]["pid"] == srv.proc.pid and st["supervisor"]["rss_bytes"] > 0
    pids = {w["pid"] for w in st["workers"]}
    assert len(pids) == 2 and srv.proc.pid not in pids
    assert st["worker"]["pid"] in pids
    html = srv.get("/server-status").text
    assert '<meta http-equiv="refresh" content="5">' in html
    assert "refresh" not in srv.get("/server-status?refresh=0").text.split("</head>")[0]
    assert '<meta http-equiv="refresh" content="30">' in srv.get("/server-status?refresh=30").text


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed (scripts/deps.sh test installs it)")
def test_status_page_in_headless_chromium(make_server, tmp_path):
    srv = make_server(tree(), server_extra='workers = 2\nstatus = "/server-status"')
    assert srv.get("/x", host="a.test").status == 200
    version = run_cli("--version").stdout.split()[1]
    st = srv.get("/server-status?json").json()
    dom, err = dump_dom(srv.url + "/server-status", tmp_path / "profile")
    assert "<h1>subhttpd status</h1>" in dom, err[-2000:]
    assert version in dom
    assert 'http-equiv="refresh"' in dom and 'href="?refresh=0"' in dom
    workers = dom.split('id="workers"')[1].split("</table>")[0]
    assert "supervisor" in workers and str(srv.proc.pid) in workers
    for w in st["workers"]:
        assert ">%d<" % w["pid"] in workers or ">%d (answered)<" % w["pid"] in workers, workers
    assert "MB" in workers and "a.test" in dom.split('id="sites"')[1]
    dom, err = dump_dom(srv.url + "/server-status?refresh=0", tmp_path / "profile2")
    assert "<h1>subhttpd status</h1>" in dom, err[-2000:]
    assert 'http-equiv="refresh"' not in dom and 'href="?refresh=5"' in dom
