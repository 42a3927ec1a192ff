"""Small static files are kept in memory and checked by one stat(2) per
request: every change to the file, its path or its permissions is seen on the
very next request, as if nothing were kept."""

import os
import shutil

import pytest

TREE = {
    "sites.d/s.toml": """
        [[site]]
        server_name = "static.test"
        document_root = "../htdocs"
    """,
    "htdocs/a.txt": "first version\n",
    "htdocs/sub/b.txt": "in sub\n",
    "outside/secret.txt": "secret\n",
}


@pytest.fixture
def srv(make_server):
    return make_server(dict(TREE))


def path(srv, *parts):
    return os.path.join(srv.root, *parts)


def warm(srv, url, body):
    for _ in range(3):  # the first answer fills the cache, the next ones use it
        r = srv.get(url)
        assert r.status == 200 and r.body == body, r


def test_same_size_rewrite_with_the_same_mtime_is_seen(srv):
    warm(srv, "/a.txt", b"first version\n")
    p = path(srv, "htdocs", "a.txt")
    st = os.stat(p)
    with open(p, "w") as f:
        f.write("other version\n")  # same length
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: ctime still moves
    assert srv.get("/a.txt").body == b"other version\n"


def test_replaced_by_rename_is_seen(srv):
    warm(srv, "/a.txt", b"first version\n")
    tmp = path(srv, "htdocs", ".a.tmp")
    with open(tmp, "w") as f:
        f.write("renamed in\n")
    os.rename(tmp, path(srv, "htdocs", "a.txt"))
    assert srv.get("/a.txt").body == b"renamed in\n"


def test_removed_file_is_404(srv):
    warm(srv, "/a.txt", b"first version\n")
    os.remove(path(srv, "htdocs", "a.txt"))
    assert srv.get("/a.txt").status == 404


def test_unreadable_file_is_403(srv):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    warm(srv, "/a.txt", b"first version\n")
    os.chmod(path(srv, "htdocs", "a.txt"), 0)
    assert srv.get("/a.txt").status == 403


def test_file_turned_into_a_symlink_out_of_the_root_is_refused(srv):
    warm(srv, "/a.txt", b"first version\n")
    os.remove(path(srv, "htdocs", "a.txt"))
    os.symlink(path(srv, "outside", "secret.txt"), path(srv, "htdocs", "a.txt"))
    r = srv.get("/a.txt")
    assert r.status in (403, 404) and b"secret" not in r.body, r


def test_directory_turned_into_a_symlink_out_of_the_root_is_refused(srv):
    warm(srv, "/sub/b.txt", b"in sub\n")
    shutil.rmtree(path(srv, "htdocs", "sub"))
    os.makedirs(path(srv, "outside", "sub"))
    with open(path(srv, "outside", "sub", "b.txt"), "w") as f:
        f.write("secret sub\n")
    os.symlink(path(srv, "outside", "sub"), path(srv, "htdocs", "sub"))
    r = srv.get("/sub/b.txt")
    assert r.status in (403, 404) and b"secret" not in r.body, r


def test_conditions_ranges_and_head_from_the_cache(srv):
    r = srv.get("/a.txt")
    etag = r.headers["ETag"]
    assert srv.get("/a.txt", headers={"If-None-Match": etag}).status == 304
    r = srv.get("/a.txt", headers={"Range": "bytes=0-4"})
    assert r.status == 206 and r.body == b"first", r
    r = srv.get("/a.txt", headers={"Range": "bytes=0-0,6-12"})
    assert r.status == 206 and b"f" in r.body and b"version" in r.body, r
    assert srv.get("/a.txt", headers={"Range": "bytes=100-"}).status == 416
    r = srv.request("HEAD", "/a.txt")
    assert r.status == 200 and r.body == b"" and r.headers["Content-Length"] == "14", r
    assert r.headers["ETag"] == etag


def test_a_reload_that_moves_the_root_is_seen(make_server):
    """The kept file is unchanged, but the new config maps the URL elsewhere."""
    srv = make_server(dict(TREE, **{"outside/a.txt": "the new root\n"}), reload="watch")
    warm(srv, "/a.txt", b"first version\n")
    with open(path(srv, "sites.d", "s.toml"), "w") as f:
        f.write('[[site]]\nserver_name = "static.test"\ndocument_root = "../outside"\n')
    assert srv.wait_for(lambda: srv.get("/a.txt").body == b"the new root\n", timeout=15), srv.log()[-2000:]
