// The request type's methods (mod_python's req.write, read, sendfile,
// get_config, register_cleanup, filters, ...).
#include <Python.h>
#include <structmember.h>

#include <sys/stat.h>

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <utility>

#include "common/host.h"
#include "common/log.h"
#include "interp/body.h"
#include "interp/py_util.h"
#include "interp/request_object.h"

namespace subhttpd::interp::req_impl {
namespace {

// ---- methods --------------------------------------------------------------

PyObject* req_write(PyObject* o, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    REQ_ALIVE(o);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "write() needs the data to write");
        return nullptr;
    }
    // flush=1 (mod_python's default) sends the headers and the data at once
    // (what the socket takes); flush=0 buffers until the handler returns.
    bool flush = true;
    if (nargs >= 2) {
        flush = PyObject_IsTrue(args[1]) != 0;
    }
    if (kwnames != nullptr) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
            if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "flush") == 0) {
                flush = PyObject_IsTrue(args[nargs + i]) != 0;
            }
        }
    }
    PyObject* data = args[0];
    Py_ssize_t incoming = PyUnicode_Check(data) ? PyUnicode_GET_LENGTH(data)
                          : PyBytes_Check(data)  ? PyBytes_GET_SIZE(data)
                                                 : 0;
    if (!c.ex->streaming() && !(flush && c.on_flush) &&
        c.ex->bytes_written() + static_cast<std::size_t>(incoming) > max_buffered_response) {
        PyErr_Format(PyExc_IOError,
                     "response too large to buffer (over %zu MB): write it with flush=1, or from a block with "
                     "offload = true",
                     max_buffered_response >> 20);
        return nullptr;
    }
    if (c.ex->streaming() && c.ex->unsent() + static_cast<std::size_t>(incoming) > max_buffered_response) {
        // On the loop a write cannot wait for a slow client; past this much
        // unsent output the handler is told instead of the server growing.
        PyErr_Format(PyExc_IOError,
                     "response too large: over %zu MB not yet taken by the client (await req.drain() in an async "
                     "handler, or offload = true)",
                     max_buffered_response >> 20);
        return nullptr;
    }
    if (PyUnicode_Check(data)) {
        Py_ssize_t n = 0;
        const char* s = PyUnicode_AsUTF8AndSize(data, &n);
        if (s == nullptr) {
            return nullptr;
        }
        c.ex->write(s, static_cast<std::size_t>(n));
    } else if (PyBytes_Check(data)) {
        c.ex->write(PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data)));
    } else {
        Py_buffer view;
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
            PyErr_Format(PyExc_TypeError, "write() takes str or bytes, not %s", Py_TYPE(data)->tp_name);
            return nullptr;
        }
        c.ex->write(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
        PyBuffer_Release(&view);
    }
    if (flush && c.on_flush) {
        c.on_flush();
    }
    Py_RETURN_NONE;
}

PyObject* req_flush(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (c.on_flush) {
        c.on_flush();
    }
    Py_RETURN_NONE;
}

bool size_arg(PyObject* const* args, Py_ssize_t nargs, Py_ssize_t& n) {
    n = -1;
    if (nargs >= 1 && args[0] != Py_None) {
        n = PyLong_AsSsize_t(args[0]);
        if (n == -1 && PyErr_Occurred()) {
            return false;
        }
    }
    return true;
}

PyObject* req_read(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    Py_ssize_t n = 0;
    if (!size_arg(args, nargs, n)) {
        return nullptr;
    }
    // A small read asks for no length first: behind input filters that would
    // run the whole body through them (the filtered length is known only then).
    constexpr Py_ssize_t small_read = 64 * 1024;
    std::size_t want = n >= 0 && n <= small_read ? static_cast<std::size_t>(n) : c.ex->body_remaining();
    if (n >= 0 && static_cast<std::size_t>(n) < want) {
        want = static_cast<std::size_t>(n);
    }
    return read_body_bytes(*c.ex, want);
}

PyObject* req_readline(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    Py_ssize_t n = 0;
    if (!size_arg(args, nargs, n)) {
        return nullptr;
    }
    std::string line;
    c.ex->read_body_line(line, n < 0 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(n));
    return PyBytes_FromStringAndSize(line.data(), static_cast<Py_ssize_t>(line.size()));
}

PyObject* req_readlines(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    Py_ssize_t hint = 0;
    if (!size_arg(args, nargs, hint)) {
        return nullptr;
    }
    py::ref list = py::ref::steal(PyList_New(0));
    if (!list) {
        return nullptr;
    }
    std::size_t total = 0;
    std::string line;
    while (c.ex->read_body_line(line, static_cast<std::size_t>(-1)) > 0) {
        py::ref b = py::ref::steal(PyBytes_FromStringAndSize(line.data(), static_cast<Py_ssize_t>(line.size())));
        if (!b || PyList_Append(list.get(), b.get()) < 0) {
            return nullptr;
        }
        total += line.size();
        if (hint > 0 && total >= static_cast<std::size_t>(hint)) {
            break;
        }
    }
    return list.release();
}

PyObject* req_discard_request_body(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    char buf[4096];
    while (c.ex->read_body(buf, sizeof buf) > 0) {
    }
    return PyLong_FromLong(0);
}

PyObject* options_table(PyObject* o, const conf::options_map& m) {
    header_list items(m.begin(), m.end());
    return make_table(Py_TYPE(o), items);
}

PyObject* req_get_options(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (self->options == nullptr) {
        self->options = options_table(o, c.route->options);
        if (self->options == nullptr) {
            return nullptr;
        }
    }
    return Py_NewRef(self->options);
}

PyObject* req_get_config(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (self->config == nullptr) {
        header_list items;
        const hosts::route& r = *c.route;
        items.emplace_back("PythonDebug", r.debug ? "1" : "0");
        items.emplace_back("PythonAutoReload", r.autoreload ? "1" : "0");
        items.emplace_back("PythonOptimize", std::to_string(c.cfg->python.optimize));
        const hosts::phase_route& pr = r.at(c.phase);
        if (pr.rule == hosts::interp_rule::interpreter) {
            items.emplace_back("PythonInterpreter", pr.interpreter);
        } else if (pr.rule == hosts::interp_rule::per_directory) {
            items.emplace_back("PythonInterpPerDirectory", "1");
        } else if (pr.rule == hosts::interp_rule::per_directive ||
                   pr.rule == hosts::interp_rule::per_directive_site) {
            items.emplace_back("PythonInterpPerDirective", "1");
        }
        for (conf::phase p : conf::all_phases) {
            const hosts::phase_route& ph = r.at(p);
            if (!ph.set || ph.handlers.empty()) {
                continue;
            }
            std::string v;
            for (const auto& h : ph.handlers) {
                if (!v.empty()) {
                    v += ' ';
                }
                v += h.module + "::" + h.callable;
            }
            items.emplace_back(std::string(conf::phase_directive(p)), v);
        }
        self->config = make_table(Py_TYPE(o), items);
        if (self->config == nullptr) {
            return nullptr;
        }
    }
    return Py_NewRef(self->config);
}

PyObject* req_document_root(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (c.route->site == nullptr) {
        return PyUnicode_FromString("");
    }
    return py::str(c.route->site->document_root);
}

PyObject* req_register_cleanup(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs < 1 || nargs > 2 || !PyCallable_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "register_cleanup(callable[, data])");
        return nullptr;
    }
    cleanup_entry e;
    e.in = c.py_req_interp;
    e.fn = py::ref::borrow(args[0]);
    if (nargs == 2) {
        e.data = py::ref::borrow(args[1]);
    }
    c.cleanups.push_back(std::move(e));
    Py_RETURN_NONE;
}

PyObject* req_internal_redirect(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string uri;
    if (nargs != 1 || !py::to_string(args[0], uri)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "internal_redirect(uri)");
        }
        return nullptr;
    }
    if (uri.empty() || uri.front() != '/') {
        PyErr_SetString(PyExc_ValueError, "internal_redirect() needs a path starting with '/'");
        return nullptr;
    }
    if (!c.on_internal_redirect || !c.on_internal_redirect(uri)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "internal_redirect() is not available here");
        }
        return nullptr;
    }
    Py_RETURN_NONE;
}

PyObject* req_allow_methods(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "allow_methods(methods[, reset])");
        return nullptr;
    }
    if (nargs >= 2) {
        int reset = PyObject_IsTrue(args[1]);
        if (reset < 0) {
            return nullptr;
        }
        if (reset) {
            c.allowed_methods.clear();
        }
    }
    py::ref seq = py::ref::steal(PySequence_Fast(args[0], "allow_methods() takes a sequence of method names"));
    if (!seq) {
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i) {
        std::string m;
        if (!py::to_string(PySequence_Fast_GET_ITEM(seq.get(), i), m)) {
            return nullptr;
        }
        if (!c.allowed_methods.empty()) {
            c.allowed_methods += ", ";
        }
        c.allowed_methods += m;
    }
    Py_RETURN_NONE;
}

PyObject* req_sendfile(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string path;
    if (nargs < 1 || !py::to_string(args[0], path)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "sendfile(path[, offset[, len]])");
        }
        return nullptr;
    }
    long long offset = 0, len = -1;
    if (nargs >= 2 && (offset = PyLong_AsLongLong(args[1])) == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    if (nargs >= 3 && (len = PyLong_AsLongLong(args[2])) == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    struct stat sb{};
    if (::stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        PyErr_Format(PyExc_IOError, "Could not stat file for reading: %s", path.c_str());
        return nullptr;
    }
    if (offset < 0 || offset > sb.st_size) {
        PyErr_SetString(PyExc_ValueError, "offset beyond the end of the file");
        return nullptr;
    }
    std::uint64_t length = static_cast<std::uint64_t>(sb.st_size - offset);
    if (len >= 0 && static_cast<std::uint64_t>(len) < length) {
        length = static_cast<std::uint64_t>(len);
    }
    if (!c.ex->send_file(path, static_cast<std::uint64_t>(offset), length)) {
        PyErr_Format(PyExc_IOError, "Could not open file for reading: %s", path.c_str());
        return nullptr;
    }
    return PyLong_FromUnsignedLongLong(length);
}

PyObject* req_set_content_length(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "set_content_length(length)");
        return nullptr;
    }
    long long n = PyLong_AsLongLong(args[0]);
    if (n == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    c.content_length = n;
    Py_RETURN_NONE;
}

PyObject* req_update_mtime(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "update_mtime(dependency_mtime)");
        return nullptr;
    }
    double t = PyFloat_AsDouble(args[0]);
    if (t == -1.0 && PyErr_Occurred()) {
        return nullptr;
    }
    if (static_cast<std::int64_t>(t) > c.mtime) {
        c.mtime = static_cast<std::int64_t>(t);
    }
    Py_RETURN_NONE;
}

PyObject* req_peer(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    const peer_info& p = c.ex->peer();
    return Py_BuildValue("(sisis)", p.remote_ip.c_str(), static_cast<int>(p.remote_port), p.local_ip.c_str(),
                         static_cast<int>(p.local_port), p.scheme.c_str());
}

PyObject* req_route_info(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    const hosts::route& r = *c.route;
    const conf::site* s = r.site;
    const peer_info& p = c.ex->peer();
    const std::string port = host::server_port(c.ex->host(), p.local_port, p.scheme == "https");
    return Py_BuildValue("{s:s,s:s,s:s,s:O,s:s,s:s}", "server_name", s ? s->server_name.c_str() : "",
                         "document_root", s ? s->document_root.c_str() : "", "mount", r.mount.c_str(),
                         "debug", r.debug ? Py_True : Py_False, "auth_name", r.auth_name.c_str(),
                         "server_port", port.c_str());
}

PyObject* req_auth_type_config(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    return py::str(c.route->auth_type);
}

// server.get_options(): the options set at site level only (the virtual host's).
PyObject* req_site_options(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    header_list items;
    if (c.route->site != nullptr) {
        for (const auto& [k, v] : c.route->site->settings.options) {
            if (!v.empty()) {
                items.emplace_back(k, v);
            }
        }
    }
    return make_table(Py_TYPE(o), items);
}

// server.get_config(): the directives set at site level only (the virtual host's).
PyObject* req_site_config(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    header_list items;
    const conf::site* s = c.route->site;
    const conf::block empty;
    const conf::block& b = s != nullptr ? s->settings : empty;
    items.emplace_back("PythonDebug", b.debug.value_or(c.cfg->python.debug) ? "1" : "0");
    items.emplace_back("PythonAutoReload", b.autoreload.value_or(c.cfg->python.autoreload) ? "1" : "0");
    items.emplace_back("PythonOptimize", std::to_string(c.cfg->python.optimize));
    if (b.interpreter) {
        items.emplace_back("PythonInterpreter", *b.interpreter);
    }
    if (b.interp_per_directory.value_or(false)) {
        items.emplace_back("PythonInterpPerDirectory", "1");
    }
    if (b.interp_per_directive.value_or(false)) {
        items.emplace_back("PythonInterpPerDirective", "1");
    }
    for (conf::phase p : conf::all_phases) {
        const auto& list = b.handlers[static_cast<std::size_t>(p)];
        if (!list || list->empty()) {
            continue;
        }
        std::string v;
        for (const auto& h : *list) {
            v += (v.empty() ? "" : " ") + h;
        }
        items.emplace_back(std::string(conf::phase_directive(p)), v);
    }
    return make_table(Py_TYPE(o), items);
}

// req.register_output_filter(name, handler[, dir]) and the input twin.
PyObject* register_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs, bool is_input) {
    REQ_ALIVE(o);
    std::string name, spec, dir;
    if (nargs < 2 || nargs > 3 || !py::to_string(args[0], name) || !py::to_string(args[1], spec) ||
        (nargs == 3 && args[2] != Py_None && !py::to_string(args[2], dir))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, is_input ? "register_input_filter(name, handler[, dir])"
                                                      : "register_output_filter(name, handler[, dir])");
        }
        return nullptr;
    }
    registered_filter f;
    f.name = name;
    auto sep = spec.find("::");
    f.entry.module = spec.substr(0, sep);
    f.entry.callable = sep == std::string::npos ? std::string(is_input ? "inputfilter" : "outputfilter")
                                                : spec.substr(sep + 2);
    if (name.empty() || f.entry.module.empty() || f.entry.callable.empty()) {
        PyErr_SetString(PyExc_ValueError, "a filter needs a name and a handler \"module[::callable]\"");
        return nullptr;
    }
    const hosts::phase_route& pr = c.route->at(c.phase);
    f.dir = !dir.empty() ? dir : (pr.set ? pr.module_dir : (c.route->site ? c.route->site->document_root : ""));
    f.interpreter = c.main_name;
    f.is_input = is_input;
    c.registered_filters.push_back(std::move(f));
    Py_RETURN_NONE;
}

PyObject* req_register_output_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return register_filter(o, args, nargs, false);
}

PyObject* req_register_input_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return register_filter(o, args, nargs, true);
}

// req.add_output_filter(name): the registered filter joins the chain; what was
// written before it joined is not filtered (as in Apache).
PyObject* add_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs, bool is_input) {
    REQ_ALIVE(o);
    std::string name;
    if (nargs != 1 || !py::to_string(args[0], name)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, is_input ? "add_input_filter(name)" : "add_output_filter(name)");
        }
        return nullptr;
    }
    for (auto it = c.registered_filters.rbegin(); it != c.registered_filters.rend(); ++it) {
        if (it->name == name && it->is_input == is_input) {
            if (!c.on_add_filter) {
                break;
            }
            c.on_add_filter(*it);
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown %s filter '%s' (register it first with req.register_%s_filter)",
                 is_input ? "input" : "output", name.c_str(), is_input ? "input" : "output");
    return nullptr;
}

PyObject* req_add_output_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return add_filter(o, args, nargs, false);
}

PyObject* req_add_input_filter(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    return add_filter(o, args, nargs, true);
}

// req.hlist: (handler, directory, is_location) of the handler running now.
// A directory block gives its path with '/', a location its prefix, the site None.
PyObject* req_hlist_info(PyObject* o, PyObject*) {
    REQ_ALIVE(o);
    if (c.running.empty()) {
        return Py_BuildValue("(OOi)", Py_None, Py_None, 0);
    }
    const hosts::block_ref& from = c.running_from;
    if (from.type == hosts::block_ref::kind::site) {
        return Py_BuildValue("(sOi)", c.running.c_str(), Py_None, 0);
    }
    if (from.type == hosts::block_ref::kind::location) {
        return Py_BuildValue("(ssi)", c.running.c_str(), from.path.c_str(), 1);
    }
    std::string dir = from.path;
    if (dir.empty() || dir.back() != '/') {
        dir.push_back('/');
    }
    return Py_BuildValue("(ssi)", c.running.c_str(), dir.c_str(), 0);
}

PyObject* req_log_error(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string msg;
    if (nargs < 1 || !py::to_string(args[0], msg)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "log_error(message[, level])");
        }
        return nullptr;
    }
    long lvl = 3;
    if (nargs >= 2 && (lvl = PyLong_AsLong(args[1])) == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    log::level lv = lvl <= 2 ? log::level::crit
                    : lvl == 3 ? log::level::error
                    : lvl == 4 ? log::level::warn
                    : lvl == 5 ? log::level::notice
                    : lvl == 6 ? log::level::info
                               : log::level::debug;
    log::write(lv, "python", c.main_name, msg);
    Py_RETURN_NONE;
}

// req.add_handler(htype, handler[, dir]): mod_python's dynamic registration.
PyObject* req_add_handler(PyObject* o, PyObject* const* args, Py_ssize_t nargs) {
    REQ_ALIVE(o);
    std::string htype, spec, dir;
    if (nargs < 2 || nargs > 3 || !py::to_string(args[0], htype) || !py::to_string(args[1], spec) ||
        (nargs == 3 && args[2] != Py_None && !py::to_string(args[2], dir))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "add_handler(htype, handler[, dir])");
        }
        return nullptr;
    }
    if (spec.find_first_not_of(" \t") == std::string::npos) {
        PyErr_SetString(PyExc_ValueError, "add_handler: the handler is empty");  // as mod_python 3.5
        return nullptr;
    }
    const conf::phase* found = nullptr;
    for (const conf::phase& p : conf::all_phases) {
        if (conf::phase_directive(p) == htype) {
            found = &p;
        }
    }
    if (found == nullptr) {
        PyErr_Format(PyExc_ValueError, "add_handler: unsupported handler type %s (use one of "
                     "PythonPostReadRequestHandler, PythonTransHandler, PythonHeaderParserHandler, "
                     "PythonInitHandler, PythonAccessHandler, PythonAuthenHandler, PythonAuthzHandler, "
                     "PythonTypeHandler, PythonFixupHandler, PythonHandler, PythonLogHandler, "
                     "PythonCleanupHandler)", htype.c_str());
        return nullptr;
    }
    if (static_cast<int>(*found) < static_cast<int>(c.phase)) {
        PyErr_Format(PyExc_ValueError, "add_handler: %s has already run for this request", htype.c_str());
        return nullptr;
    }
    const hosts::phase_route& pr = c.route->at(*found);
    const hosts::phase_route& current = c.route->at(c.phase);
    std::istringstream words(spec);
    std::string word;
    while (words >> word) {
        added_handler a;
        a.phase = *found;
        auto sep = word.find("::");
        a.entry.module = word.substr(0, sep);
        a.entry.callable =
            sep == std::string::npos ? std::string(conf::phase_default_callable(*found)) : word.substr(sep + 2);
        a.dir = !dir.empty() ? dir : (pr.set ? pr.module_dir : current.module_dir);
        a.interpreter = pr.set ? pr.interpreter : c.main_name;
        c.added.push_back(std::move(a));
    }
    Py_RETURN_NONE;
}

}  // namespace

PyMethodDef req_methods[] = {
    {"write", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_write)), METH_FASTCALL | METH_KEYWORDS,
     "write(data, flush=1): append to the response body"},
    {"flush", req_flush, METH_NOARGS, "flush(): inline handlers' output leaves when the handler returns"},
    {"read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_read)), METH_FASTCALL,
     "read([len]): bytes of the request body"},
    {"readline", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_readline)), METH_FASTCALL,
     "readline([len]): one line of the request body"},
    {"readlines", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_readlines)), METH_FASTCALL,
     "readlines([sizehint]): the lines of the request body"},
    {"discard_request_body", req_discard_request_body, METH_NOARGS, "read and drop the request body"},
    {"get_options", req_get_options, METH_NOARGS, "the PythonOption table"},
    {"get_config", req_get_config, METH_NOARGS, "the directives in force, as a table"},
    {"document_root", req_document_root, METH_NOARGS, "the site's document root"},
    {"register_cleanup", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_register_cleanup)),
     METH_FASTCALL, "register_cleanup(callable[, data]): run after the response"},
    {"internal_redirect", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_internal_redirect)),
     METH_FASTCALL, "internal_redirect(uri): run the request for another URI now"},
    {"allow_methods", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_allow_methods)),
     METH_FASTCALL, "allow_methods(methods[, reset]): the Allow header"},
    {"sendfile", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_sendfile)), METH_FASTCALL,
     "sendfile(path[, offset[, len]]): send a file as (part of) the body"},
    {"set_content_length", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_set_content_length)),
     METH_FASTCALL, "set_content_length(n)"},
    {"update_mtime", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_update_mtime)), METH_FASTCALL,
     "update_mtime(t): keep the newest modification time"},
    {"log_error", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_log_error)), METH_FASTCALL,
     "log_error(message[, level])"},
    {"add_handler", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_add_handler)), METH_FASTCALL,
     "add_handler(htype, handler[, dir]): run another handler later in this request"},
    {"_peer", req_peer, METH_NOARGS, nullptr},
    {"_route_info", req_route_info, METH_NOARGS, nullptr},
    {"_auth_type_config", req_auth_type_config, METH_NOARGS, nullptr},
    {"_site_options", req_site_options, METH_NOARGS, nullptr},
    {"_site_config", req_site_config, METH_NOARGS, nullptr},
    {"register_output_filter",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_register_output_filter)), METH_FASTCALL,
     "register_output_filter(name, handler[, dir]): name an output filter handler"},
    {"register_input_filter",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_register_input_filter)), METH_FASTCALL,
     "register_input_filter(name, handler[, dir]): name an input filter handler"},
    {"add_output_filter", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_add_output_filter)),
     METH_FASTCALL, "add_output_filter(name): filter what is written from now on"},
    {"add_input_filter", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(req_add_input_filter)),
     METH_FASTCALL, "add_input_filter(name): filter the request body read from now on"},
    {"_hlist_info", req_hlist_info, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef req_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(request_object, weakrefs), READONLY, nullptr},
    {"__dictoffset__", T_PYSSIZET, offsetof(request_object, dict), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

}  // namespace subhttpd::interp::req_impl
