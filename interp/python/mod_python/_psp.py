"""The PSP translator: PSP template text -> Python source, with mod_python
3.5's grammar and output (its scanner is a flex state machine; this is the
same machine in Python).

Template syntax:
  text            written as is (req.write of a triple-quoted string)
  <% code %>      Python statements
  <%= expr %>     req.write(str(expr))
  <%@ include file="name" %>   the named file's text, parsed in place
                  (a relative name is relative to the folder of the page being
                  translated, also inside nested includes, as in 3.5)
  <%-- ... --%>   a comment, dropped

Indentation: the indentation of the last line of a code block carries over to
the text that follows it, so the text belongs to the block the code opened; a
block whose last line ends with ':' indents the following text one level
deeper. A line with less indentation (for instance a comment `# end`) before
`%>` closes the block. The generated code keeps the template's line numbers.
"""

import re

_INITIAL, _TEXT, _PYCODE, _INDENT, _DIR, _COMMENT = range(6)

_INCLUDE = re.compile(r'include +file ?= ?"[^ ]+"', re.S)

_TEXT_ESCAPES = {"\\n": "\\\\n", "\\r": "\\\\r", "\\t": "\\\\t"}


def _read(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class _Scanner(object):
    def __init__(self, directory):
        self.dir = directory
        self.out = []
        self.whitespace = ""
        self.seen_newline = False
        self.is_psp_echo = False
        self.after_colon = False

    def run(self, text):
        out = self.out
        emit = out.append
        stack = []  # (text, position) of the files that include the current one
        pos = 0
        state = _INITIAL
        while True:
            if pos >= len(text):
                if state == _TEXT:
                    if not stack:
                        emit('""",0)\n')
                        break
                    text, pos = stack.pop()
                    state = _DIR  # the rest of the include directive
                    continue
                break  # end of input anywhere else ends the translation (as flex does)

            ch = text[pos]
            if state == _INITIAL:
                emit('req.write("""')
                state = _TEXT

            elif state == _TEXT:
                if text.startswith("<%--", pos):
                    pos += 4
                    state = _COMMENT
                elif text.startswith("<%=", pos):
                    emit('""",0); req.write(str(')
                    self.is_psp_echo = True
                    pos += 3
                    state = _PYCODE
                elif text.startswith("<%@", pos):
                    pos += 3
                    state = _DIR
                elif text.startswith("<%", pos):
                    emit('""",0);')
                    self.whitespace = ""
                    self.seen_newline = False
                    pos += 2
                    state = _PYCODE
                elif ch == "\\" and text[pos:pos + 2] in _TEXT_ESCAPES:
                    emit(_TEXT_ESCAPES[text[pos:pos + 2]])
                    pos += 2
                elif text.startswith("\r\n", pos):
                    emit("\n")
                    pos += 2
                elif ch == "\n":
                    emit("\n")
                    pos += 1
                elif ch == '"':
                    emit('\\"')
                    pos += 1
                else:
                    emit(ch)
                    pos += 1

            elif state == _PYCODE:
                if ch in "\r\n":
                    pos += 2 if text.startswith("\r\n", pos) else 1
                    emit("\n")
                    self.seen_newline = True
                    state = _INDENT
                elif text.startswith("%>", pos):
                    pos += 2
                    if self.is_psp_echo:
                        emit('),0); req.write("""')
                        self.is_psp_echo = False
                    else:
                        if not self.seen_newline:
                            emit(";")  # <% x %> on one line
                        if self.after_colon:
                            self.whitespace += "\t"  # text right after 'if x:' belongs to the block
                            self.after_colon = False
                        emit(self.whitespace)
                        emit('req.write("""')
                    state = _TEXT
                else:
                    emit(ch)
                    self.after_colon = ch == ":"
                    pos += 1

            elif state == _INDENT:
                end = pos
                while end < len(text) and text[end] in " \t":
                    end += 1
                if end > pos:
                    self.whitespace = text[pos:end]
                    emit(self.whitespace)
                    pos = end
                elif not text.startswith("%>", pos):
                    self.whitespace = ""
                state = _PYCODE

            elif state == _DIR:
                m = _INCLUDE.match(text, pos)
                if m is not None:
                    quoted = m.group(0)
                    start = quoted.index('"') + 1
                    name = quoted[start:quoted.index('"', start)]
                    path = name if (not self.dir or name.startswith("/")) else self.dir + name
                    included = _read(path)
                    stack.append((text, m.end()))
                    text, pos = included, 0
                    state = _TEXT
                elif text.startswith("%>", pos):
                    pos += 2
                    state = _TEXT
                else:
                    pos += 1  # anything else inside a directive is ignored

            else:  # _COMMENT
                if text.startswith("--%>", pos):
                    pos += 4
                    state = _TEXT
                else:
                    pos += 1
        return "".join(out)


def parsestring(text):
    """The Python source for PSP `text` (includes are relative to the current folder)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    return _Scanner(None).run(text)


def parse(filename, dir=None):
    """The Python source for the PSP file `dir + filename` (dir, when given,
    ends with '/', and relative includes are looked up in it)."""
    path = dir + filename if dir else filename
    return _Scanner(dir).run(_read(path))


__all__ = ["parse", "parsestring"]
