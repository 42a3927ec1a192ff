"""mod_python.version: the package's version and the build facts 3.5's
generated version module exposes (no Apache here: the HTTPD_* values name
subhttpd)."""

import sys as _sys

version = "3.5.0"
HTTPD = "subhttpd"
HTTPD_VERSION = "2.4"      # the Apache API level mod_python code may compare against
APR_VERSION = ""
PYTHON_BIN = _sys.executable or "/usr/bin/python3"
LIBEXECDIR = ""
SYSCONFDIR = "/etc"
