"""The site the test_modpython_*.py files run against: mp.test, the default
site, serving ../mp. Each test file brings its own directory blocks and the
handler files under apps/modpython/ they name."""

from conftest import serve_tree

HOST = "mp.test"

SITE_HEAD = """
[[site]]
server_name = "mp.test"
default = true
document_root = "../mp"
"""


def mp_server(tmp_path_factory, blocks, files, site_keys=""):
    """One server for a test module: mp.test with `site_keys` (site-level TOML)
    and `blocks` ([[site.directory]] TOML), `files` its tree ("mp/..." paths).
    Use as `yield from mp_server(...)` in a module-scoped fixture."""
    tree = {"sites.d/mp.toml": SITE_HEAD + site_keys + "\n" + blocks}
    tree.update(files)
    yield from serve_tree(tmp_path_factory, "mp", tree)


def get(srv, path, **kw):
    kw.setdefault("host", HOST)
    return srv.get(path, **kw)
