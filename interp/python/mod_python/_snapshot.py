"""req.prev / req.next across interpreters. After req.internal_redirect() the
new request may run in another interpreter than the one that called it; Python
objects cannot cross, so that side sees a read-only snapshot of the other
request, made in its own interpreter when the link is set."""

from mod_python import apache

_TABLES = ("headers_in", "headers_out", "err_headers_out", "notes", "subprocess_env")


class request_snapshot(object):
    """What a request looked like when the redirect linked it: its scalars as
    they were, its tables as copies (changing them changes nothing). `prev`,
    `next` and `main` are None: a snapshot does not follow further links."""

    __slots__ = ("_fields",)

    def __init__(self, fields):
        fields = dict(fields)
        for name in _TABLES:
            fields[name] = apache.table(fields.get(name, ()))
        fields.setdefault("prev", None)
        fields.setdefault("next", None)
        fields["main"] = None
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "_fields")[name]
        except KeyError:
            raise AttributeError("request snapshot has no attribute %r" % name) from None

    def __setattr__(self, name, value):
        raise AttributeError("a request snapshot from another interpreter is read-only")

    def __delattr__(self, name):
        raise AttributeError("a request snapshot from another interpreter is read-only")

    def __dir__(self):
        return sorted(self._fields)

    def __repr__(self):
        return "<request snapshot %s %s from interpreter %r>" % (
            self._fields.get("method"), self._fields.get("uri"), self._fields.get("interpreter"))
