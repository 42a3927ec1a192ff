"""mod_python compatibility package for subhttpd: the modules of mod_python 3.5
(apache, util, publisher, Cookie, Session, psp, cache, cgihandler, httpdconf,
python22, testhandler, wsgi), so mod_python applications run unmodified."""

__all__ = ["apache", "cgihandler", "psp", "publisher", "util", "python22", "version"]

from . import version  # noqa: E402  mod_python.version is a module, as in 3.5
mp_version = version.version
