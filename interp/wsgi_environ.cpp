// The WSGI environ: keys and constants cached per interpreter (wsgi_state, kept
// in the native module's state), and the per-request dict built from a copy of
// its template.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/host.h"
#include "common/text.h"
#include "interp/module.h"
#include "common/log.h"
#include "interp/py_util.h"
#include "interp/wsgi_parts.h"

namespace subhttpd::interp {

using namespace wsgi_impl;

int wsgi_state_traverse(wsgi_state* ws, visitproc visit, void* arg) {
    Py_VISIT(ws->version.get());
    Py_VISIT(ws->errors.get());
    Py_VISIT(ws->file_wrapper.get());
    Py_VISIT(ws->file_target.get());
    Py_VISIT(ws->input_type.get());
    Py_VISIT(ws->start_response_type.get());
    Py_VISIT(ws->env_template.get());
    return 0;
}

void wsgi_state_free(wsgi_state* ws) { delete ws; }

namespace wsgi_impl {
namespace {

constexpr const char* key_names[key_count] = {
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "SERVER_SOFTWARE",
    "SERVER_ADDR",
    "GATEWAY_INTERFACE",
    "REQUEST_URI",
    "REQUEST_SCHEME",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "DOCUMENT_ROOT",
    "SCRIPT_FILENAME",
    "HTTPS",
    "wsgi.version",
    "wsgi.url_scheme",
    "wsgi.input",
    "wsgi.errors",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.file_wrapper",
    "wsgi.input_terminated",
    "mod_wsgi.application_group",
    "mod_wsgi.process_group",
    "subhttpd.interpreter",
    "close",
};

// At most this many distinct request header names get a cached HTTP_* key, so a
// client sending random header names cannot grow the cache without bound.
constexpr std::size_t header_key_cache_max = 256;

}  // namespace

// ---- per-interpreter state ----------------------------------------------------

namespace {

wsgi_state* make_state(interpreter& in) {
    auto ws = std::make_unique<wsgi_state>();
    for (int i = 0; i < key_count; ++i) {
        ws->keys[i] = py::ref::steal(PyUnicode_InternFromString(key_names[i]));
        if (!ws->keys[i]) {
            return nullptr;
        }
    }
    ws->version = py::ref::steal(Py_BuildValue("(ii)", 1, 0));
    ws->s_cgi = py::ref::steal(PyUnicode_InternFromString("CGI/1.1"));
    ws->s_software = py::ref::steal(PyUnicode_InternFromString("subhttpd"));
    ws->s_http = py::ref::steal(PyUnicode_InternFromString("http"));
    ws->s_https = py::ref::steal(PyUnicode_InternFromString("https"));
    ws->s_empty = py::ref::steal(PyUnicode_FromStringAndSize("", 0));
    ws->s_on = py::ref::steal(PyUnicode_InternFromString("on"));
    ws->errors = py::ref::steal(PyObject_CallMethod(in.runtime(), "_wsgi_errors_stream", nullptr));
    ws->file_wrapper = py::ref::steal(PyObject_GetAttrString(in.runtime(), "_FileWrapper"));
    ws->file_target = py::ref::steal(PyObject_GetAttrString(in.runtime(), "_wsgi_file_target"));
    ws->input_type = py::ref::steal(PyType_FromModuleAndSpec(in.module(), &input_spec, nullptr));
    ws->start_response_type = py::ref::steal(PyType_FromModuleAndSpec(in.module(), &sr_spec, nullptr));
    if (!ws->version || !ws->s_cgi || !ws->s_software || !ws->s_http || !ws->s_https || !ws->s_empty || !ws->s_on ||
        !ws->errors || !ws->file_wrapper || !ws->file_target || !ws->input_type ||
        !ws->start_response_type) {
        return nullptr;
    }
    ws->s_interp = py::ref::steal(py::str(in.name()));
    const char* group = std::getenv("SUBHTTPD_PROCESS_GROUP");  // set in a process group's process
    ws->s_group = py::ref::steal(py::str(group != nullptr ? group : ""));
    ws->env_template = py::ref::steal(PyDict_New());
    if (!ws->s_interp || !ws->s_group || !ws->env_template) {
        return nullptr;
    }
    struct constant {
        int key;
        PyObject* value;
    } constants[] = {
        {k_server_software, ws->s_software.get()}, {k_gateway_interface, ws->s_cgi.get()},
        {k_wsgi_version, ws->version.get()},       {k_wsgi_errors, ws->errors.get()},
        {k_wsgi_run_once, Py_False},                {k_wsgi_file_wrapper, ws->file_wrapper.get()},
        {k_wsgi_input_terminated, Py_True},         {k_application_group, ws->s_interp.get()},
        {k_process_group, ws->s_group.get()},       {k_subhttpd_interpreter, ws->s_interp.get()},
    };
    for (int i = 0; i < key_count; ++i) {
        if (i == k_https || i == k_content_type || i == k_content_length || i == k_close) {
            continue;  // present only when the request has them
        }
        PyObject* v = Py_None;
        for (const auto& c : constants) {
            if (c.key == i) {
                v = c.value;
            }
        }
        if (PyDict_SetItem(ws->env_template.get(), ws->keys[i].get(), v) < 0) {
            return nullptr;
        }
    }
    return ws.release();
}

}  // namespace

wsgi_state* state_for(interpreter& in) {
    module_state* st = get_module_state(in.module());
    if (st->wsgi == nullptr) {
        st->wsgi = make_state(in);
    }
    return st->wsgi;
}

namespace {

// ---- environ ----------------------------------------------------------------------

PyObject* latin1(std::string_view s) {
    return PyUnicode_DecodeLatin1(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
}

// Stores `value` (a new reference, may be NULL after an error) under `key`.
bool put(PyObject* d, PyObject* key, PyObject* value) {
    py::ref v = py::ref::steal(value);
    return v && PyDict_SetItem(d, key, v.get()) == 0;
}

// "HTTP_X_FORWARDED_FOR" for "X-Forwarded-For": cached while the cache is small.
PyObject* header_key(wsgi_state& ws, const std::string& name) {
    auto it = ws.header_keys.find(name);
    if (it != ws.header_keys.end()) {
        return Py_NewRef(it->second.get());
    }
    std::string k = "HTTP_";
    k.reserve(5 + name.size());
    for (char c : name) {
        k += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    PyObject* key = PyUnicode_DecodeLatin1(k.data(), static_cast<Py_ssize_t>(k.size()), nullptr);
    if (key == nullptr) {
        return nullptr;
    }
    PyUnicode_InternInPlace(&key);
    if (ws.header_keys.size() < header_key_cache_max) {
        ws.header_keys.emplace(name, py::ref::borrow(key));
    }
    return key;
}

// Request headers as HTTP_* (CONTENT_TYPE/CONTENT_LENGTH without the prefix).
// Names holding '_' are dropped; repeated headers are joined with ", ".
bool add_headers(wsgi_state& ws, PyObject* env, const header_list& headers, bool& has_length) {
    for (const auto& [name, value] : headers) {
        if (name.find('_') != std::string::npos) {
            continue;
        }
        py::ref key;
        if (strcasecmp(name.c_str(), "Content-Type") == 0) {
            key = ws.keys[k_content_type];
        } else if (strcasecmp(name.c_str(), "Content-Length") == 0) {
            key = ws.keys[k_content_length];
            has_length = true;
        } else {
            key = py::ref::steal(header_key(ws, name));
            if (!key) {
                return false;
            }
        }
        PyObject* old = PyDict_GetItemWithError(env, key.get());
        if (old == nullptr && PyErr_Occurred()) {
            return false;
        }
        py::ref v = py::ref::steal(latin1(value));
        if (!v) {
            return false;
        }
        if (old != nullptr) {
            py::ref sep = py::ref::steal(PyUnicode_FromString(", "));
            py::ref a = py::ref::steal(sep ? PyUnicode_Concat(old, sep.get()) : nullptr);
            v = py::ref::steal(a ? PyUnicode_Concat(a.get(), v.get()) : nullptr);
            if (!v) {
                return false;
            }
        }
        if (PyDict_SetItem(env, key.get(), v.get()) < 0) {
            return false;
        }
    }
    return true;
}

// SERVER_NAME and SERVER_PORT as Apache gives them with UseCanonicalName Off:
// the Host header's name and port, else the site's name and the local port.
void server_name_port(const request_ctx& ctx, std::string& name, std::string& port) {
    std::string_view h = host::split(ctx.ex->host()).name;
    if (h.empty() && ctx.route->site != nullptr) {
        h = ctx.route->site->server_name;
    }
    name = text::to_lower(h);
    const peer_info& peer = ctx.ex->peer();
    port = host::server_port(ctx.ex->host(), peer.local_port, peer.scheme == "https");
}

}  // namespace

PyObject* build_environ(wsgi_state& ws, interpreter& /*in*/, const request_ctx& ctx, PyObject* script_filename,
                        PyObject* input) {
    py::ref env = py::ref::steal(PyDict_Copy(ws.env_template.get()));
    if (!env) {
        return nullptr;
    }
    PyObject* d = env.get();
    exchange& ex = *ctx.ex;
    const hosts::route& r = *ctx.route;
    bool has_length = false;
    if (!add_headers(ws, d, ex.request_headers(), has_length)) {
        return nullptr;
    }
    // A chunked body has no Content-Length, but it is complete here: tell the app its size.
    if (!has_length && ex.body_remaining() > 0 &&
        !put(d, ws.keys[k_content_length].get(), PyUnicode_FromFormat("%zu", ex.body_remaining()))) {
        return nullptr;
    }
    const std::string& mount = r.mount;
    std::string_view path_info = ctx.uri;
    if (!mount.empty() && path_info.compare(0, mount.size(), mount) == 0) {
        path_info.remove_prefix(mount.size());
    }
    std::string sname, sport;
    server_name_port(ctx, sname, sport);
    const peer_info& peer = ex.peer();
    bool https = peer.scheme == "https";
    auto& k = ws.keys;
    if (!put(d, k[k_request_method].get(), latin1(ex.method())) ||
        !put(d, k[k_script_name].get(), latin1(mount)) || !put(d, k[k_path_info].get(), latin1(path_info)) ||
        !put(d, k[k_query_string].get(), latin1(ctx.args)) ||
        !put(d, k[k_server_name].get(), latin1(sname)) || !put(d, k[k_server_port].get(), latin1(sport)) ||
        !put(d, k[k_server_protocol].get(), latin1(ex.protocol())) ||
        !put(d, k[k_server_addr].get(), latin1(peer.local_ip)) ||
        !put(d, k[k_request_uri].get(), latin1(ex.target())) ||
        !put(d, k[k_request_scheme].get(), Py_NewRef(https ? ws.s_https.get() : ws.s_http.get())) ||
        !put(d, k[k_remote_addr].get(), latin1(peer.remote_ip)) ||
        !put(d, k[k_remote_port].get(), latin1(std::to_string(peer.remote_port))) ||
        !put(d, k[k_document_root].get(), r.site ? py::str(r.site->document_root) : Py_NewRef(ws.s_empty.get())) ||
        !put(d, k[k_script_filename].get(), Py_NewRef(script_filename)) ||
        !put(d, k[k_wsgi_url_scheme].get(), Py_NewRef(https ? ws.s_https.get() : ws.s_http.get())) ||
        !put(d, k[k_wsgi_input].get(), Py_NewRef(input)) ||
        !put(d, k[k_wsgi_multithread].get(), PyBool_FromLong(r.offload)) ||
        !put(d, k[k_wsgi_multiprocess].get(), PyBool_FromLong(ctx.cfg->server.workers != 1))) {
        return nullptr;
    }
    if (https && !put(d, k[k_https].get(), Py_NewRef(ws.s_on.get()))) {
        return nullptr;
    }
    return env.release();
}

}  // namespace wsgi_impl
}  // namespace subhttpd::interp
