"""Debug error pages (PythonDebug): the pieces the server renders."""

import os as _os
# ---------------------------------------------------------------------------
# Debug error pages (PythonDebug): the server renders what this returns.

def _error_report(exc_type, exc, tb, context=3):
    """The pieces of a debug error page for one exception (called by the server).

    Returns (type name, message, traceback text, frames, syntax) where frames is a
    list of (filename, lineno, function, [(lineno, source line), ...]) with
    `context` lines either side, innermost last, and syntax is None or
    (filename, lineno, offset, end_offset, text, msg) for a SyntaxError.
    """
    import traceback
    import linecache
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    frames = []
    for fs in traceback.extract_tb(tb):
        lineno = fs.lineno or 0
        lines = []
        if lineno > 0:
            linecache.checkcache(fs.filename)  # autoreload may have changed it
            for n in range(max(1, lineno - context), lineno + context + 1):
                line = linecache.getline(fs.filename, n)
                if not line:
                    break
                lines.append((n, line.rstrip("\r\n")))
        frames.append((fs.filename, lineno, fs.name, lines))
    # The server's own importer frames above the first user frame are noise
    # (a SyntaxError in a handler module has nothing else); the text keeps them.
    ours = _os.path.dirname(_os.path.abspath(__file__))
    while frames and (_os.path.dirname(_os.path.abspath(frames[0][0])) == ours
                      or frames[0][0].startswith("<frozen ")):
        del frames[0]
    syntax = None
    if isinstance(exc, SyntaxError):
        end = getattr(exc, "end_offset", None) or 0
        if getattr(exc, "end_lineno", None) not in (None, exc.lineno):
            end = 0
        syntax = (exc.filename or "", exc.lineno or 0, exc.offset or 0, end,
                  (exc.text or "").rstrip("\r\n"), exc.msg or "")
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable %s>" % exc_type.__name__
    name = exc_type.__qualname__
    if exc_type.__module__ not in ("builtins", "__main__"):
        name = "%s.%s" % (exc_type.__module__, name)
    return (name, message, text, frames, syntax)

