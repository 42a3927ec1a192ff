"""mod_python compatibility package for subhttpd: apache, util, Cookie,
publisher and wsgi, so mod_python applications run unmodified."""

version = "3.5.0"
