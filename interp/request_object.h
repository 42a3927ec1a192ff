#pragma once
// The request type's parts, shared by the files that make it and by nothing
// else: the object layout, the liveness check every member starts with, and the
// table conversions. request_type.cpp has the slots and attributes,
// request_methods.cpp the methods, request_tables.cpp the tables, module.cpp the
// module that makes the type. GIL of the request's interpreter held.
#include <Python.h>

#include "interp/module.h"
#include "interp/request.h"

namespace subhttpd::interp::req_impl {

struct request_object {
    PyObject_HEAD
    request_ctx* ctx;
    PyObject* dict;
    PyObject* headers_in;
    PyObject* headers_out;
    PyObject* err_headers_out;
    PyObject* notes;
    PyObject* subprocess_env;
    PyObject* options;
    PyObject* config;
    PyObject* weakrefs;
};

inline module_state* state_of(PyObject* module) { return static_cast<module_state*>(PyModule_GetState(module)); }
inline module_state* state_of_type(PyTypeObject* t) { return static_cast<module_state*>(PyType_GetModuleState(t)); }

inline bool alive(request_object* self) {
    if (self->ctx == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "the request is finished; this req object can no longer be used");
        return false;
    }
    return true;
}

#define REQ_ALIVE(o)                                        \
    auto* self = reinterpret_cast<request_object*>(o);      \
    if (!alive(self)) {                                     \
        return nullptr;                                     \
    }                                                       \
    request_ctx& c = *self->ctx;

#define REQ_ALIVE_SET(o)                                    \
    auto* self = reinterpret_cast<request_object*>(o);      \
    if (!alive(self)) {                                     \
        return -1;                                          \
    }                                                       \
    request_ctx& c = *self->ctx;

// A new mod_python table (header_table for response headers) holding `items`.
PyObject* make_table(PyTypeObject* type, const header_list& items, bool response_headers = false);
// The table's items into `out`; false with an error set.
bool read_table(PyTypeObject* type, PyObject* table, header_list& out);

extern PyGetSetDef req_getset[];   // request_type.cpp
extern PyMethodDef req_methods[];  // request_methods.cpp
extern PyMemberDef req_members[];  // request_methods.cpp
extern PyType_Spec req_spec;       // request_type.cpp

}  // namespace subhttpd::interp::req_impl
