"""PythonOutputFilter / PythonInputFilter (output_filter / input_filter block
keys) with mod_python 3.5's filter object, and req.register_output_filter /
req.add_output_filter at run time."""

import pytest

from conftest import app_source

HOST = "flt.test"

SITES = """
[[site]]
server_name = "flt.test"
document_root = "../htdocs"
python_path = ["../lib"]

[[site.directory]]
path = "upper"
handler = "pages"
output_filter = "filters::upper"

[[site.directory]]
path = "passon"
handler = "pages"
output_filter = "filters::passon"

[[site.directory]]
path = "disable"
handler = "pages"
output_filter = "filters::disabler"

[[site.directory]]
path = "chain"
handler = "pages"
output_filter = ["filters::upper", "filters::brackets"]

[[site.directory]]
path = "broken"
handler = "pages"
output_filter = "filters::broken"

[[site.directory]]
path = "input"
handler = "pages::echo"
input_filter = "filters::rot13"

[[site.directory]]
path = "runtime"
handler = "pages::runtime"

[[site.location]]
path = "/loc"
handler = "pages"
output_filter = "filters"

# static files served through output filters
[[site.directory]]
path = "files"
output_filter = "filters::upper"

[[site.location]]
path = "/stamped"
output_filter = "filters::stamp"

[[site.directory]]
path = "offfiles"
offload = true
output_filter = "filters::upper"

[[site.directory]]
path = "bigin"
handler = "pages::count_echo"
input_filter = "filters::counting"
"""

FILTERS = app_source("mpfilters/filters.py")

PAGES = app_source("mpfilters/pages.py")


@pytest.fixture
def srv(make_server):
    return make_server({
        "sites.d/f.toml": SITES,
        "lib/filters.py": FILTERS,
        "lib/pages.py": PAGES,
        "htdocs/upper": None, "htdocs/passon": None, "htdocs/disable": None, "htdocs/chain": None,
        "htdocs/broken": None, "htdocs/input": None, "htdocs/runtime": None,
        "htdocs/files/a.txt": "hello static\n", "htdocs/files/big.txt": "abc\n" * 50000,
        "htdocs/stamped/s.txt": "plain\n", "htdocs/offfiles/o.txt": "off the loop\n", "htdocs/plain.txt": "unfiltered\n", "htdocs/bigin": None,
    })


def get(srv, path, **kw):
    return srv.request("GET", path, host=HOST, **kw)


def test_uppercase_output_filter_and_content_length(srv):
    r = get(srv, "/upper/x")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"PIECE ONE;PIECE TWO;END"
    assert int(r.headers["Content-Length"]) == len(r.body)
    # streamed (req.write flushes): each piece leaves filtered
    r = get(srv, "/upper/x?stream")
    assert r.status == 200 and r.body == b"PIECE ONE;PIECE TWO;END"
    assert "Content-Length" not in r.headers
    # a location's filter; the default callable is outputfilter
    assert get(srv, "/loc/x").body == b"PIECE ONE;PIECE TWO;END"


def test_pass_on_leaves_the_body_and_runs_per_piece(srv):
    r = get(srv, "/passon/x")
    assert r.status == 200 and r.body == b"piece one;piece two;end"


def test_a_disabled_filter_lets_the_rest_through(srv):
    r = get(srv, "/disable/x")
    assert r.body == b"<piece one;>piece two;end", r


def test_filters_chain_in_order(srv):
    r = get(srv, "/chain/x")
    assert r.body == b"[PIECE ONE;][PIECE TWO;][END]", r


def test_a_failing_filter_is_disabled_and_logged(srv):
    r = get(srv, "/broken/x")
    assert r.status == 200 and r.body == b"piece one;piece two;end"
    assert "filter trouble" in srv.log()


def test_input_filter_rewrites_the_body_before_the_handler_reads(srv):
    r = srv.request("POST", "/input/x", body=b"Hello, World", host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"got:Uryyb, Jbeyq"


def test_add_output_filter_at_run_time(srv):
    r = get(srv, "/runtime/x")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"before;AFTER;ERR:UNKNOWN"


def test_a_static_file_goes_through_the_output_filter(srv):
    r = get(srv, "/files/a.txt")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"HELLO STATIC\n"
    assert int(r.headers["Content-Length"]) == len(r.body)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "ETag" in r.headers and "Last-Modified" in r.headers
    # a range of the file is no range of the filtered body: the whole body, 200
    assert "Accept-Ranges" not in r.headers
    r = get(srv, "/files/a.txt", headers={"Range": "bytes=0-2"})
    assert r.status == 200 and r.body == b"HELLO STATIC\n"
    r = srv.request("HEAD", "/files/a.txt", host=HOST)
    assert r.status == 200 and r.body == b"" and r.headers["Content-Length"] == "13"
    # a file larger than one read of the file
    r = get(srv, "/files/big.txt")
    assert r.status == 200 and r.body == b"ABC\n" * 50000


def test_a_static_file_in_an_offloaded_block_is_filtered_on_the_pool(srv):
    r = get(srv, "/offfiles/o.txt")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"OFF THE LOOP\n"
    # a missing file there: the 404 page passes the filter too, as in Apache
    r = get(srv, "/offfiles/nope.txt")
    assert r.status == 404 and b"NOT FOUND" in r.body


def test_a_static_file_filter_has_req_in_its_interpreter(srv):
    # a location's filter over a mapped file; filter.req is made for it
    r = get(srv, "/stamped/s.txt")
    assert r.status == 200, (r, srv.log()[-2000:])
    assert r.body == b"plain\n[/stamped/s.txt flt.test]"
    assert int(r.headers["Content-Length"]) == len(r.body)


def test_a_static_file_outside_every_filter_is_sent_as_is(srv):
    r = get(srv, "/plain.txt", headers={"Range": "bytes=0-3"})
    assert r.status == 206 and r.body == b"unfi"
    assert get(srv, "/plain.txt").headers["Accept-Ranges"] == "bytes"


def test_an_input_filter_is_called_once_per_piece_of_the_body(srv):
    body = b"first line\n" + b"x" * 50000
    r = srv.request("POST", "/bigin/x", body=body, host=HOST)
    assert r.status == 200, (r, srv.log()[-2000:])
    length, first, pieces, eos, upper = r.text.split(" ")
    pieces = [int(p) for p in pieces.split(",")]
    assert int(length) == len(body) and upper == "True"
    # bounded pieces, each its own call, pulled as the handler reads
    assert len(pieces) > 1 and max(pieces) <= 8192 and sum(pieces) == len(body)
    assert first == "1"
    assert eos == "E"  # read() gave None once, in the last call
    # an empty body: one call, at the end of the stream
    r = srv.request("POST", "/bigin/x", body=b"", host=HOST)
    assert r.status == 200 and r.text == "0 1 0 E True"
