"""C extensions that accept only one interpreter per process (Debian's numpy,
lxml, PyYAML's C part): the refusal is diagnosed in words for mod_python
handlers and WSGI apps alike, and [python] main_imports with interpreter =
"main_interpreter" makes such a site work beside subinterpreter sites that use
the same library, with no import-order luck."""

import subprocess

import pytest

from conftest import run_cli

HAVE_NUMPY = subprocess.run(["/usr/bin/python3", "-c", "import numpy"], capture_output=True).returncode == 0
HAVE_LXML = subprocess.run(["/usr/bin/python3", "-c", "import lxml.etree"], capture_output=True).returncode == 0

HANDLERS = {
    "mp/h.py": """
        import importlib
        from mod_python import apache

        def handler(req):
            mod = importlib.import_module(req.args)
            req.content_type = "text/plain"
            req.write("%s in %s" % (mod.__name__, req.interpreter), 0)
            return apache.OK
    """,
    "mp/app.py": """
        import importlib

        def application(environ, start_response):
            mod = importlib.import_module(environ["QUERY_STRING"])
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [("%s in %s" % (mod.__name__, environ["subhttpd.interpreter"])).encode()]
    """,
}


def sites(main_site=False):
    text = """
        [[site]]
        server_name = "first.test"
        document_root = "../mp"
        handler = "h"

        [[site]]
        server_name = "second.test"
        document_root = "../mp"
        handler = "h"

        [[site]]
        server_name = "wsgi.test"
        document_root = "../mp"
        [[site.location]]
        path = "/"
        wsgi = "app:application"
    """
    if main_site:
        text += """
        [[site]]
        server_name = "main.test"
        document_root = "../mp"
        handler = "h"
        interpreter = "main_interpreter"
        """
    return text


def start(make_server, main_site=False, **kw):
    """The handlers and the sites above (with the main-interpreter site or not)."""
    files = dict(HANDLERS)
    files["sites.d/s.toml"] = sites(main_site=main_site)
    return make_server(files, **kw)


@pytest.mark.skipif(not HAVE_NUMPY, reason="python3-numpy is not installed")
def test_numpy_refusal_is_diagnosed_for_handlers_and_wsgi(make_server):
    srv = start(make_server)
    first = srv.get("/?numpy", host="first.test")
    assert first.status == 200 and first.body == b"numpy in first.test", srv.log()[-2000:]
    second = srv.get("/?numpy", host="second.test")
    assert second.status == 500
    log = srv.log()
    assert "the C extension 'numpy' cannot be loaded into this interpreter ('second.test')" in log, log[-3000:]
    assert "interpreter 'first.test' has already loaded it" in log
    assert 'interpreter = "main_interpreter"' in log and "main_imports" in log
    w = srv.get("/?numpy", host="wsgi.test")
    assert w.status == 500
    log = srv.log()
    assert "the C extension 'numpy' cannot be loaded into this interpreter ('wsgi.test')" in log
    assert "WSGI app app:application" in log
    # the other sites serve on
    assert srv.get("/?json", host="second.test").status == 200


@pytest.mark.skipif(not HAVE_NUMPY, reason="python3-numpy is not installed")
def test_main_imports_make_a_main_interpreter_site_work_whatever_imports_first(make_server):
    srv = start(make_server, main_site=True, python_extra='main_imports = ["numpy"]')
    # a subinterpreter site imports numpy before the main-interpreter site is asked
    sub = srv.get("/?numpy", host="first.test")
    assert sub.status == 500  # the main interpreter owns numpy from the start
    assert "interpreter 'main_interpreter' has already loaded it" in srv.log()
    main = srv.get("/?numpy", host="main.test")
    assert main.status == 200 and main.body == b"numpy in main_interpreter"
    assert "main_imports: imported numpy" in srv.log()


def test_main_imports_is_checked(make_server, tmp_path):
    srv = start(make_server, python_extra='main_imports = ["numpy", "not a module", "a..b"]', start=False)
    out = run_cli("check", "-c", srv.config)
    assert out.returncode == 1
    assert "main_imports: 'not a module' is not a module name" in out.stdout + out.stderr
    assert "'a..b' is not a module name" in out.stdout + out.stderr


@pytest.mark.skipif(not HAVE_LXML, reason="python3-lxml is not installed")
def test_lxml_from_the_main_interpreter_beside_subinterpreter_sites(make_server):
    srv = start(make_server, main_site=True, python_extra='main_imports = ["lxml.etree"]')
    main = srv.get("/?lxml.etree", host="main.test")
    assert main.status == 200 and main.body == b"lxml.etree in main_interpreter", srv.log()[-2000:]
    assert srv.get("/?json", host="first.test").status == 200


def test_check_warns_about_two_interpreters_importing_one_extension(make_server):
    files = dict(HANDLERS)
    files["sites.d/s.toml"] = """
        [[site]]
        server_name = "a.test"
        document_root = "../mp"
        import = ["numpy"]

        [[site]]
        server_name = "b.test"
        document_root = "../mp"
        import = ["numpy"]
    """
    srv = make_server(files, start=False)
    out = run_cli("check", "-c", srv.config)
    assert out.returncode == 0  # a warning, not an error
    assert "warning: site b.test imports numpy into interpreter 'b.test'" in out.stderr
    assert "main_imports" in out.stderr
