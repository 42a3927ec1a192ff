"""mod_python.httpdconf: Apache configuration written as Python objects, as in
mod_python 3.5 (its own test suite builds httpd.conf this way).

`str(obj)` gives the Apache text, `repr(obj)` the Python expression that builds
it again. Directives are `Name(value)`; sections (`VirtualHost`, `Directory`,
`Location`, `Files`, `IfModule`) are `Name(attr, *children)`; `Container`
groups children (optionally only when its `only_if` expression is true) and
`Comment` writes `# ` lines. Backslashes become slashes unless a directive
asks otherwise (LogFormat, PythonPath)."""

import os
import shutil
import sys

import mod_python  # noqa: F401  only_if expressions may name it


class Directive:
    def __init__(self, name, val, flipslash=1):
        self.name = name
        self.val = val
        self.indent = 0
        self.flipslash = flipslash

    def _slashes(self, s):
        return s.replace("\\", "/") if self.flipslash else s

    def __repr__(self):
        return self._slashes(" " * self.indent + "%s(%r)" % (self.name, self.val))

    def __str__(self):
        return self._slashes(" " * self.indent + "%s %s\n" % (self.name, self.val))


class Container:
    def __init__(self, *args, **kwargs):
        self.args = list(args)
        self.indent = 0
        self.only_if = kwargs.get("only_if")

    def append(self, value):
        if not isinstance(value, (Directive, Container, ContainerTag, Comment)):
            raise TypeError("appended value must be an instance of Directive, Container, "
                            "ContainerTag or Comment")
        self.args.append(value)

    def __repr__(self):
        pad = " " * self.indent
        out = pad + "Container("
        for arg in self.args:
            arg.indent = self.indent + 4
            out += "\n%r," % (arg,)
        if self.only_if:
            out += "\n" + pad + "    only_if=%r)" % (self.only_if,)
        else:
            out += "\n" + pad + ")"
        return out

    def __str__(self):
        if self.only_if and not eval(self.only_if):
            return ""
        out = ""
        for arg in self.args:
            arg.indent = self.indent
            out += str(arg)
        return out


class ContainerTag:
    def __init__(self, tag, attr, args, flipslash=1):
        self.tag = tag
        self.attr = attr
        self.args = args
        self.indent = 0
        self.flipslash = flipslash

    def __repr__(self):
        pad = " " * self.indent
        out = pad + "%s(%r," % (self.tag, self.attr)
        if self.flipslash:
            out = out.replace("\\", "/")
        for arg in self.args:
            arg.indent = self.indent + 4
            out += "\n%r," % (arg,)
        return out + "\n" + pad + ")"

    def __str__(self):
        pad = " " * self.indent
        out = pad + "<%s %s>\n" % (self.tag, self.attr)
        if self.flipslash:
            out = out.replace("\\", "/")
        for arg in self.args:
            arg.indent = self.indent + 2
            out += str(arg)
        return out + pad + "</%s>\n" % self.tag


class Comment:
    def __init__(self, comment):
        self.comment = comment
        self.indent = 0

    def __repr__(self):
        pad = " " * self.indent
        lines = self.comment.splitlines()
        out = pad + "Comment(%r" % (lines[0] + "\n",)
        for line in lines[1:]:
            out += "\n        " + pad + repr(line + "\n")
        return out + ")"

    def __str__(self):
        pad = " " * self.indent
        return "".join(pad + "# %s\n" % line for line in self.comment.splitlines())


# ---- directives: one class per Apache directive, named after it

def _directive(name, flipslash=1, default=None):
    if default is None:
        def __init__(self, val):
            Directive.__init__(self, name, val, flipslash)
    else:
        def __init__(self, val=default):
            Directive.__init__(self, name, val, flipslash)
    return type(name, (Directive,), {"__init__": __init__, "__module__": __name__})


def _section(name):
    def __init__(self, attr, *args):
        ContainerTag.__init__(self, name, attr, args)
    return type(name, (ContainerTag,), {"__init__": __init__, "__module__": __name__})


for _name in ("AddHandler AddOutputFilter AddType AuthBasicAuthoritative AuthBasicProvider AuthType "
              "AuthName CustomLog DirectoryIndex DocumentRoot ErrorLog KeepAliveTimeout Listen "
              "LoadModule LogLevel MaxConnectionsPerChild MaxClients MaxRequestsPerChild "
              "MaxSpareServers MaxSpareThreads MaxThreadsPerChild MinSpareThreads Mutex "
              "NameVirtualHost NumServers Options PidFile PythonAuthenHandler PythonAuthzHandler "
              "PythonCleanupHandler PythonConnectionHandler PythonDebug PythonHandler "
              "PythonAccessHandler PythonPostReadRequestHandler PythonTransHandler PythonFixupHandler "
              "PythonImport PythonOutputFilter PythonOption Require SetHandler ServerAdmin ServerName "
              "ServerPath ServerRoot StartServers StartThreads ThreadsPerChild Timeout "
              "TypesConfig").split():
    globals()[_name] = _directive(_name)
for _name in ("LogFormat", "PythonPath"):
    globals()[_name] = _directive(_name, flipslash=0)
for _name in ("PythonInterpPerDirectory", "PythonInterpPerDirective"):
    globals()[_name] = _directive(_name, default="Off")
for _name in ("Directory", "Files", "IfModule", "Location", "VirtualHost"):
    globals()[_name] = _section(_name)
del _name


class LockFile(Directive):
    def __init__(self, val):
        # Windows has no LockFile: 3.5 comments it out there.
        Directive.__init__(self, ("#" if sys.platform == "win32" else "") + "LockFile", val)


def quote_if_space(s):
    return '"%s"' % s if " " in s else s


def write_basic_config(server_root, listen="0.0.0.0:8888", conf="conf", logs="logs",
                       htdocs="public", pythonhandler="mod_python.publisher",
                       pythonpath=[], pythonoptions=[], mp_comments=[],
                       conf_name="httpd_conf.py", createdirs=True, replace_config=False):
    """Writes `server_root/conf/conf_name`: a Python script that prints a
    sensible Apache configuration for mod_python (3.5's `mod_python create`).
    Returns its path, or None when it exists and `replace_config` is false."""
    from mod_python import version as mpv
    err = sys.stderr
    conf_path = os.path.join(server_root, conf, conf_name)
    if os.path.exists(conf_path) and not replace_config:
        print("Error: %r already exists, aborting." % conf_path, file=err)
        return None

    if createdirs:
        for d in (server_root, os.path.join(server_root, htdocs), os.path.join(server_root, conf),
                  os.path.join(server_root, logs)):
            if os.path.isdir(d):
                print("Warning: directory %r already exists, continuing." % d, file=err)
            else:
                print("Creating directory %r." % d, file=err)
                os.mkdir(d)
        dest = os.path.join(server_root, conf, "mime.types")
        if os.path.isfile(dest):
            print("Warning: file %r already exists, continuing." % dest, file=err)
        else:
            for src_dir in (mpv.SYSCONFDIR, "/etc"):
                src = os.path.join(src_dir, "mime.types")
                if os.path.isfile(src):
                    print("Copying %r to %r" % (src, dest), file=err)
                    shutil.copy(src, dest)
                    break

    mime_types = os.path.join(conf, "mime.types")
    if not os.path.exists(os.path.join(server_root, mime_types)):
        print("Warning: file %r does not exist." % os.path.join(server_root, mime_types), file=err)
    if not os.path.isdir(os.path.join(server_root, htdocs)):
        print("Warning: %r does not exist or not a directory." % os.path.join(server_root, htdocs), file=err)

    modpath = mpv.LIBEXECDIR
    modules = Container(Comment("\nLoad the necessary modules (this is the default httpd set):\n\n"))
    for mod in ("authn_file", "authn_core", "authz_host", "authz_groupfile", "authz_user", "authz_core",
                "access_compat", "auth_basic", "reqtimeout", "include", "filter", "mime", "log_config",
                "env", "headers", "setenvif", "version", "unixd", "status", "autoindex", "dir", "alias"):
        modules.append(LoadModule("%s_module %s" % (mod, quote_if_space(os.path.join(modpath, "mod_%s.so" % mod)))))

    main = Container(
        Comment("\nMain configuration options:\n\n"),
        ServerRoot(server_root),
        Container(MaxConnectionsPerChild("65536"), only_if="mod_python.version.HTTPD_VERSION[0:3] == '2.4'"),
        Container(MaxRequestsPerChild("65536"), only_if="mod_python.version.HTTPD_VERSION[0:3] < '2.4'"),
        LogFormat(r'"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined'),
        CustomLog("%s combined" % quote_if_space(os.path.join(logs, "access_log"))),
        ErrorLog(quote_if_space(os.path.join(logs, "error_log"))),
        LogLevel("warn"),
        PidFile(quote_if_space(os.path.join(logs, "httpd.pid"))),
        TypesConfig(quote_if_space(mime_types)),
        ServerName("127.0.0.1"),
        Listen(listen),
        DocumentRoot(quote_if_space(os.path.join(server_root, htdocs))),
        Container(LockFile(quote_if_space(os.path.join(logs, "accept.lock"))),
                  only_if="mod_python.version.HTTPD_VERSION[0:3] == '2.2'"),
    )

    mp = Container(Comment("\nmod_python-specific options:\n\n"),
                   LoadModule("python_module %s" % quote_if_space(os.path.join(modpath, "mod_python.so"))),
                   SetHandler("mod_python"),
                   Comment("PythonDebug On"),
                   PythonHandler(pythonhandler))
    if pythonpath:
        mp.append(PythonPath('"sys.path+[%s]"' % "".join(repr(p) + "," for p in pythonpath)))
    for po in pythonoptions:
        mp.append(PythonOption(po))
    for c in mp_comments:
        mp.append(Comment(c))

    config = Container()
    config.append(Comment("\nThis config was auto-generated, do not edit!\n\n"))
    config.append(modules)
    config.append(main)
    config.append(mp)

    text = ("#!%s\n\n#\n# This config was auto-generated, but you can edit it!\n"
            "# It can be used to generate an Apache config by simply\n"
            "# running it. We recommend you run it like this:\n"
            "# $ mod_python genconfig <this filename> > <new apache confg>\n#\n\n" % mpv.PYTHON_BIN)
    text += "from mod_python.httpdconf import *\n\n"
    text += "config = " + repr(config)
    text += "\n\nprint(config)\n"
    print("Writing %r." % conf_path, file=err)
    with open(conf_path, "w") as f:
        f.write(text)
    return conf_path
