// The PythonDebug 500 page: a report taken from Python once, rendered as HTML
// or plain text.
#include "interp/error_page.h"

#include "common/escape.h"

#include <strings.h>
#include <unistd.h>

#include <algorithm>

#include "interp/py_util.h"

namespace subhttpd::interp {
namespace {

std::string text_of(PyObject* o) {
    std::string out;
    if (o == nullptr || !py::to_string(o, out)) {
        PyErr_Clear();
        return "";
    }
    return out;
}

int int_of(PyObject* o) {
    long v = o != nullptr && PyLong_Check(o) ? PyLong_AsLong(o) : 0;
    if (PyErr_Occurred() != nullptr) {
        PyErr_Clear();
        return 0;
    }
    return static_cast<int>(v);
}

// (name, message, text, frames, syntax) from _subhttpd._error_report; false when malformed.
bool fill_report(PyObject* r, error_report& out) {
    if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 5) {
        return false;
    }
    out.type = text_of(PyTuple_GET_ITEM(r, 0));
    out.message = text_of(PyTuple_GET_ITEM(r, 1));
    out.text = text_of(PyTuple_GET_ITEM(r, 2));
    PyObject* frames = PyTuple_GET_ITEM(r, 3);
    if (!PyList_Check(frames)) {
        return false;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(frames); ++i) {
        PyObject* f = PyList_GET_ITEM(frames, i);
        if (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) != 4 || !PyList_Check(PyTuple_GET_ITEM(f, 3))) {
            return false;
        }
        error_frame fr;
        fr.file = text_of(PyTuple_GET_ITEM(f, 0));
        fr.line = int_of(PyTuple_GET_ITEM(f, 1));
        fr.function = text_of(PyTuple_GET_ITEM(f, 2));
        PyObject* lines = PyTuple_GET_ITEM(f, 3);
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(lines); ++j) {
            PyObject* l = PyList_GET_ITEM(lines, j);
            if (PyTuple_Check(l) && PyTuple_GET_SIZE(l) == 2) {
                fr.source.emplace_back(int_of(PyTuple_GET_ITEM(l, 0)), text_of(PyTuple_GET_ITEM(l, 1)));
            }
        }
        out.frames.push_back(std::move(fr));
    }
    PyObject* syn = PyTuple_GET_ITEM(r, 4);
    if (PyTuple_Check(syn) && PyTuple_GET_SIZE(syn) == 6) {
        out.syntax = true;
        out.syntax_file = text_of(PyTuple_GET_ITEM(syn, 0));
        out.syntax_line = int_of(PyTuple_GET_ITEM(syn, 1));
        out.syntax_offset = int_of(PyTuple_GET_ITEM(syn, 2));
        out.syntax_end_offset = int_of(PyTuple_GET_ITEM(syn, 3));
        out.syntax_text = text_of(PyTuple_GET_ITEM(syn, 4));
        out.syntax_msg = text_of(PyTuple_GET_ITEM(syn, 5));
    }
    return true;
}

// Credentials stay off the page even in debug.
bool secret_header(const std::string& name) {
    return strcasecmp(name.c_str(), "Authorization") == 0 || strcasecmp(name.c_str(), "Proxy-Authorization") == 0;
}

std::string header_value(const std::pair<std::string, std::string>& h) {
    return secret_header(h.first) ? std::string("(hidden)") : h.second;
}

// The source line and a caret line under the column the parser stopped at.
std::pair<std::string, std::string> syntax_lines(const error_report& r) {
    std::string text = r.syntax_text;
    std::replace(text.begin(), text.end(), '\t', ' ');
    std::string caret;
    if (r.syntax_offset > 0) {
        int width = r.syntax_end_offset > r.syntax_offset ? r.syntax_end_offset - r.syntax_offset : 1;
        caret = std::string(static_cast<std::size_t>(r.syntax_offset - 1), ' ') +
                std::string(static_cast<std::size_t>(width), '^');
    }
    return {text, caret};
}

std::string line_number(int n, int width) {
    std::string s = std::to_string(n);
    if (static_cast<int>(s.size()) < width) {
        s.insert(0, static_cast<std::size_t>(width) - s.size(), ' ');
    }
    return s;
}

std::string exception_line(const error_report& r) {
    if (r.type.empty()) {
        return "";
    }
    return r.message.empty() ? r.type : r.type + ": " + r.message;
}

error_page render_text(const error_report& r, const error_context& c) {
    std::string b = std::string(c.wsgi ? "WSGI ERROR" : "MOD_PYTHON ERROR") +
                    "\n\nProcessId:      " + std::to_string(getpid()) + "\nInterpreter:    '" + c.interpreter + "'\n\n";
    if (c.wsgi) {
        b += "WSGI app:       '" + c.handler + "'\n";
    } else {
        b += "Phase:          '" + c.phase + "'\n";
        b += "Handler:        '" + c.handler + "'\n";
    }
    b += "Site:           " + c.site + "\n";
    b += "Block:          " + c.block + "\n\n";
    if (!r.type.empty()) {
        b += "Exception:      " + exception_line(r) + "\n\n";
    }
    if (r.syntax) {
        auto [text, caret] = syntax_lines(r);
        b += "Syntax error:\n  File \"" + r.syntax_file + "\", line " + std::to_string(r.syntax_line) + "\n    " +
             text + "\n    " + caret + "\n  " + r.syntax_msg + "\n\n";
    }
    if (!r.frames.empty()) {
        b += "Frames (most recent call last):\n";
        for (const error_frame& f : r.frames) {
            b += "  File \"" + f.file + "\", line " + std::to_string(f.line) + ", in " + f.function + "\n";
            for (const auto& [n, text] : f.source) {
                b += std::string(n == f.line ? "  > " : "    ") + line_number(n, 5) + " | " + text + "\n";
            }
        }
        b += "\n";
    }
    b += "Request:\n  " + c.method + " " + c.target + " " + c.protocol + "\n";
    for (const auto& h : c.headers) {
        b += "  " + h.first + ": " + header_value(h) + "\n";
    }
    b += "\n" + r.text;
    if (!r.text.empty() && r.text.back() != '\n') {
        b += "\n";
    }
    return {"text/plain; charset=utf-8", std::move(b)};
}

constexpr const char* page_style =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}"
    "header{background:#b3261e;color:#fff;padding:16px 24px}"
    "header h1{margin:0;font-size:20px}header p{margin:4px 0 0;font-family:monospace;white-space:pre-wrap}"
    "section{padding:8px 24px}h2{font-size:16px;border-bottom:1px solid #ddd;padding-bottom:4px}"
    "table.facts td{padding:2px 12px 2px 0;vertical-align:top}table.facts td:first-child{color:#666}"
    ".frame{margin:12px 0;border:1px solid #ddd;border-radius:4px}"
    ".frame .where{background:#f4f4f4;padding:6px 10px;font-family:monospace}"
    "pre{margin:0;padding:6px 10px;overflow-x:auto;font:13px/1.35 monospace}"
    ".src>span{display:block}.src .cur{background:#fde2e1;font-weight:bold}"
    ".ln{color:#999;display:inline-block;min-width:4em}"
    ".caret{color:#b3261e;font-weight:bold}";

error_page render_html(const error_report& r, const error_context& c) {
    std::string title = exception_line(r);
    if (title.empty()) {
        title = "Internal Server Error";
    }
    std::string b = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>500 " + html_escape(title) +
                    "</title>\n<style>" + page_style + "</style></head>\n<body>\n";
    b += "<header><h1>" + html_escape(r.type.empty() ? std::string("Internal Server Error") : r.type) +
         "</h1><p>" + html_escape(r.message) + "</p></header>\n";
    b += "<section><h2>Where</h2><table class=\"facts\">\n";
    auto fact = [&b](const char* k, const std::string& v) {
        b += std::string("<tr><td>") + k + "</td><td><code>" + html_escape(v) + "</code></td></tr>\n";
    };
    fact("Request", c.method + " " + c.target + " " + c.protocol);
    fact("Site", c.site);
    fact("Block", c.block);
    if (c.wsgi) {
        fact("WSGI app", c.handler);
    } else {
        fact("Phase", c.phase);
        fact("Handler", c.handler);
    }
    fact("Interpreter", c.interpreter);
    fact("Process", std::to_string(getpid()));
    b += "</table></section>\n";
    if (r.syntax) {
        auto [text, caret] = syntax_lines(r);
        b += "<section class=\"syntax\"><h2>Syntax error</h2><div class=\"frame\"><div class=\"where\">File \"" +
             html_escape(r.syntax_file) + "\", line " + std::to_string(r.syntax_line) + "</div><pre>" +
             html_escape(text) + "\n<span class=\"caret\">" + html_escape(caret) + "</span>\n" +
             html_escape(r.syntax_msg) + "</pre></div></section>\n";
    }
    if (!r.frames.empty()) {
        b += "<section><h2>Traceback <small>(most recent call last)</small></h2>\n";
        for (const error_frame& f : r.frames) {
            b += "<div class=\"frame\"><div class=\"where\">File \"" + html_escape(f.file) + "\", line " +
                 std::to_string(f.line) + ", in <b>" + html_escape(f.function) + "</b></div>";
            if (!f.source.empty()) {
                b += "<pre class=\"src\">";
                for (const auto& [n, text] : f.source) {
                    b += std::string("<span") + (n == f.line ? " class=\"cur\"" : "") + "><span class=\"ln\">" +
                         std::to_string(n) + "</span>" + html_escape(text) + "</span>";
                }
                b += "</pre>";
            }
            b += "</div>\n";
        }
        b += "</section>\n";
    }
    b += "<section><h2>Request headers</h2><table class=\"facts\">\n";
    for (const auto& h : c.headers) {
        fact(h.first.c_str(), header_value(h));
    }
    b += "</table></section>\n";
    b += "<section><h2>Traceback as logged</h2><pre>" + html_escape(r.text) + "</pre></section>\n";
    b += "<section><p><small>Shown because PythonDebug is on (<code>[python] debug = true</code>, a block's "
         "<code>debug</code>, or <code>--dev</code>). Turn it off in production.</small></p></section>\n";
    b += "</body></html>\n";
    return {"text/html; charset=utf-8", std::move(b)};
}

}  // namespace

error_report take_error_report(PyObject* runtime) {
    error_report out;
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    if (type == nullptr) {
        return out;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != nullptr && value != nullptr) {
        PyException_SetTraceback(value, tb);
    }
    py::ref t = py::ref::steal(type), v = py::ref::steal(value), b = py::ref::steal(tb);
    py::ref r;
    if (runtime != nullptr) {
        r = py::ref::steal(PyObject_CallMethod(runtime, "_error_report", "OOO", t.get(), v ? v.get() : Py_None,
                                               b ? b.get() : Py_None));
    }
    if (r && fill_report(r.get(), out) && !out.text.empty()) {
        return out;
    }
    // The report failed: fall back to the plain traceback of the original error.
    PyErr_Clear();
    out = error_report{};
    PyErr_Restore(t.release(), v.release(), b.release());
    out.text = py::take_error_text();
    return out;
}

bool accepts_html(const header_list& request_headers) {
    for (const auto& [k, v] : request_headers) {
        if (strcasecmp(k.c_str(), "Accept") == 0 &&
            (v.find("text/html") != std::string::npos || v.find("application/xhtml+xml") != std::string::npos)) {
            return true;
        }
    }
    return false;
}

error_page render_error_page(const error_report& report, const error_context& ctx, bool html) {
    return html ? render_html(report, ctx) : render_text(report, ctx);
}

}  // namespace subhttpd::interp
