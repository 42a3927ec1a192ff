// mod_python tables <-> header lists: a req's tables are made on first use and
// copied back into the request_ctx when a phase ends (export_tables) or the
// request ends (detach_request).
#include <strings.h>

#include <algorithm>

#include "common/log.h"
#include "interp/py_util.h"
#include "interp/request_object.h"

namespace subhttpd::interp {
namespace req_impl {

PyObject* make_table(PyTypeObject* type, const header_list& items, bool response_headers) {
    module_state* st = state_of_type(type);
    py::ref t = py::ref::steal(PyObject_CallNoArgs(response_headers ? st->header_table_type : st->table_type));
    if (!t) {
        return nullptr;
    }
    py::ref list = py::ref::steal(PyList_New(static_cast<Py_ssize_t>(items.size())));
    if (!list) {
        return nullptr;
    }
    Py_ssize_t i = 0;
    for (const auto& [k, v] : items) {
        // Response header text is Latin-1 on the wire (one byte a code point).
        py::ref ks = py::ref::steal(response_headers ? PyUnicode_DecodeLatin1(k.data(), static_cast<Py_ssize_t>(k.size()), nullptr)
                                                     : py::str(k));
        py::ref vs = py::ref::steal(response_headers ? PyUnicode_DecodeLatin1(v.data(), static_cast<Py_ssize_t>(v.size()), nullptr)
                                                     : py::str(v));
        if (!ks || !vs) {
            return nullptr;
        }
        PyObject* pair = PyTuple_Pack(2, ks.get(), vs.get());
        if (pair == nullptr) {
            return nullptr;
        }
        PyList_SET_ITEM(list.get(), i++, pair);
    }
    if (PyObject_SetAttr(t.get(), st->str_items, list.get()) < 0) {
        return nullptr;
    }
    return t.release();
}

bool read_table(PyTypeObject* type, PyObject* table, header_list& out) {
    module_state* st = state_of_type(type);
    py::ref items = py::ref::steal(PyObject_GetAttr(table, st->str_items));
    if (!items) {
        return false;
    }
    py::ref seq = py::ref::steal(PySequence_Fast(items.get(), "table items must be a sequence"));
    if (!seq) {
        return false;
    }
    out.clear();
    bool latin1 = PyObject_TypeCheck(table, reinterpret_cast<PyTypeObject*>(st->header_table_type));
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
    out.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* pair = PySequence_Fast_GET_ITEM(seq.get(), i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "table entries must be (key, value) pairs");
            return false;
        }
        std::string k, v;
        if (latin1) {
            py::ref kb = py::ref::steal(PyUnicode_AsLatin1String(PyTuple_GET_ITEM(pair, 0)));
            py::ref vb = py::ref::steal(kb ? PyUnicode_AsLatin1String(PyTuple_GET_ITEM(pair, 1)) : nullptr);
            if (!kb || !vb) {
                return false;
            }
            k.assign(PyBytes_AS_STRING(kb.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(kb.get())));
            v.assign(PyBytes_AS_STRING(vb.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(vb.get())));
        } else if (!py::to_string(PyTuple_GET_ITEM(pair, 0), k) || !py::to_string(PyTuple_GET_ITEM(pair, 1), v)) {
            return false;
        }
        out.emplace_back(std::move(k), std::move(v));
    }
    return true;
}

}  // namespace req_impl

using namespace req_impl;

// A Content-Type in headers_out is Apache's r->content_type: it becomes
// req.content_type unless a handler assigned one (which wins), and is never
// sent twice.
namespace {

void take_content_type(request_ctx& ctx) {
    auto is_ct = [](const auto& kv) { return strcasecmp(kv.first.c_str(), "Content-Type") == 0; };
    auto it = std::find_if(ctx.headers_out.begin(), ctx.headers_out.end(), is_ct);
    if (it == ctx.headers_out.end()) {
        return;
    }
    if (ctx.content_type.empty()) {
        ctx.content_type = it->second;
    }
    ctx.headers_out.erase(std::remove_if(ctx.headers_out.begin(), ctx.headers_out.end(), is_ct),
                          ctx.headers_out.end());
}

}  // namespace

void export_tables(PyObject* req, request_ctx* ctx) {
    auto* self = reinterpret_cast<request_object*>(req);
    PyTypeObject* tp = Py_TYPE(req);
    struct {
        PyObject* table;
        header_list* dst;
    } pairs[] = {
        {self->headers_out, &ctx->headers_out},
        {self->err_headers_out, &ctx->err_headers_out},
        {self->notes, &ctx->notes},
        {self->subprocess_env, &ctx->subprocess_env},
    };
    for (auto& p : pairs) {
        if (p.table != nullptr && !read_table(tp, p.table, *p.dst)) {
            log::write(log::level::error, "interp", ctx->main_name, "bad table: " + py::take_error_text());
        }
    }
    take_content_type(*ctx);
    ctx->tables_exported = true;
    if (self->headers_in != nullptr) {  // a handler may have changed it: later phases see its version
        if (read_table(tp, self->headers_in, ctx->headers_in)) {
            ctx->headers_in_carried = true;
        } else {
            log::write(log::level::error, "interp", ctx->main_name, "bad table: " + py::take_error_text());
        }
    }
}

void detach_request(PyObject* req, request_ctx* ctx) {
    auto* self = reinterpret_cast<request_object*>(req);
    if (self->ctx == nullptr) {
        return;
    }
    export_tables(req, ctx);
    self->ctx = nullptr;
}

}  // namespace subhttpd::interp
