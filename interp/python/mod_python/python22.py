"""mod_python.python22: the compatibility shims mod_python 3.x ships for code
written against Python 2.2 (an `enumerate` builtin there). On every Python this
server runs, the shims are already builtins, so the module only has to import
cleanly: `from mod_python.python22 import *` brings in nothing and breaks nothing."""

import sys as _sys

if _sys.version_info < (2, 3):  # never true here; kept to mirror what 3.x does
    import builtins as _builtins
    _builtins.enumerate = lambda s: list(zip(range(len(s)), s))

__all__ = []
