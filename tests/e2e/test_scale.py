"""Scaling out: worker processes sharing the listeners, and nginx in front of
two subhttpd instances (one on TCP, one on a unix socket) with trusted_proxies."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import Server, free_port, write_tree

WHO = """
import json, os
from mod_python import apache

def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({
        "pid": os.getpid(),
        "remote_ip": req.connection.remote_ip,
        "https": req.is_https(),
        "url": req.construct_url("/x"),
        "instance": req.get_options().get("instance", ""),
        "colour": req.get_options().get("colour", ""),
        "interpreter": req.interpreter,
    }))
    return apache.OK
"""


def who_site(instance, colour="red"):
    return """
[[site]]
server_name = "app.test"
document_root = "../w"
handler = "who"
options = { instance = "%s", colour = "%s" }
""" % (instance, colour)


def test_worker_processes_share_listeners_restart_and_stop(make_server):
    srv = make_server({"sites.d/a.toml": who_site("one"), "w/who.py": WHO},
                      server_extra="workers = 2", reload="signal")
    # both workers serve (each says so) before the requests that must reach both
    assert srv.wait_for(lambda: srv.log().count("[server] listening on") >= 2), srv.log()[-2000:]
    pids = set()
    for _ in range(200):
        r = srv.get("/", host="app.test")
        assert r.status == 200
        pids.add(r.json()["pid"])
        if len(pids) == 2:
            break
    assert len(pids) == 2, pids
    assert srv.proc.pid not in pids  # the parent runs no Python
    # SIGHUP reaches every worker
    with open(os.path.join(srv.root, "sites.d", "a.toml"), "w") as f:
        f.write(who_site("one", colour="blue"))
    srv.signal(signal.SIGHUP)
    seen = srv.wait_for(lambda: all(srv.get("/", host="app.test").json()["colour"] == "blue" for _ in range(20)))
    assert seen
    # a worker that dies is replaced, and the server keeps serving
    victim = next(iter(pids))
    os.kill(victim, signal.SIGKILL)
    new = srv.wait_for(lambda: (srv.get("/", host="app.test").json()["pid"] not in pids) or None, timeout=15)
    assert new
    assert srv.stop(signal.SIGTERM) == 0
    for pid in pids - {victim}:
        assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z"


def get_from(port, path, headers=None, source=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=source)
    try:
        conn.request("GET", path, headers=dict({"Host": "app.test"}, **(headers or {})))
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_trusted_proxies_only(make_server):
    srv = make_server({"sites.d/a.toml": who_site("one"), "w/who.py": WHO},
                      server_extra='trusted_proxies = ["127.0.0.1"]')
    # from a trusted proxy (127.0.0.1): the forwarded client and scheme are believed
    status, body = get_from(srv.port, "/", {"X-Forwarded-For": "203.0.113.7, 127.0.0.1",
                                            "X-Forwarded-Proto": "https"})
    data = json.loads(body)
    assert data["remote_ip"] == "203.0.113.7" and data["https"] == 1
    assert data["url"].startswith("https://")
    # from 127.0.0.2, not trusted: the headers are ignored
    status, body = get_from(srv.port, "/", {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
                            source=("127.0.0.2", 0))
    data = json.loads(body)
    assert data["remote_ip"] == "127.0.0.2" and data["https"] == 0


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/nginx-tmp/body;
    proxy_temp_path {root}/nginx-tmp/proxy;
    fastcgi_temp_path {root}/nginx-tmp/fastcgi;
    uwsgi_temp_path {root}/nginx-tmp/uwsgi;
    scgi_temp_path {root}/nginx-tmp/scgi;
    upstream subhttpd {{
        server 127.0.0.1:{tcp_port};
        server unix:{sock};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://subhttpd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


@pytest.mark.skipif(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"),
                    reason="Debian's nginx is not installed (scripts/deps.sh test installs it)")
def test_nginx_in_front_of_two_instances(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    servers = []
    sock = str(tmp_path / "b" / "subhttpd.sock")
    try:
        for name, extra in (("a", []), ("b", ["--listen", "unix:" + sock])):
            root = str(tmp_path / name)
            write_tree(root, {
                "server.toml": """
[server]
sites = ["sites.d/*.toml"]
reload = "off"
trusted_proxies = ["127.0.0.1"]
""",
                "sites.d/a.toml": who_site(name),
                "w/who.py": WHO,
            })
            srv = Server(root, os.path.join(root, "server.toml"), free_port(), extra)
            srv.start()
            servers.append(srv)
        port = free_port()
        root = str(tmp_path / "nginx")
        os.makedirs(os.path.join(root, "nginx-tmp"))
        with open(os.path.join(root, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(root=root, tcp_port=servers[0].port, sock=sock, port=port))
        proc = subprocess.Popen([nginx, "-p", root, "-e", os.path.join(root, "nginx-error.log"),
                                 "-c", os.path.join(root, "nginx.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            instances = set()
            for _ in range(20):
                status, body = get_from(port, "/", {"X-Forwarded-For": "198.51.100.9"})
                assert status == 200, body
                data = json.loads(body)
                instances.add(data["instance"])
                assert data["remote_ip"] == "198.51.100.9"  # through a trusted proxy
                assert data["https"] == 1 and data["url"].startswith("https://app.test")
            assert instances == {"a", "b"}  # both upstreams, TCP and unix socket
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        for srv in servers:
            srv.stop()
