#pragma once
// The native module `subhttpd`, safe in every interpreter: multi-phase init,
// heap types made from specs, all state in module state (no static PyObject*).
// Each interpreter imports its own instance; the registry keeps it.
// Functions here need the GIL of the interpreter that owns the module.
#include <Python.h>

#include <string>

#include "interp/request.h"

extern "C" PyObject* PyInit_subhttpd();

namespace subhttpd::interp {

struct wsgi_state;  // interp/wsgi_parts.h: the WSGI adapter's per-interpreter cache

struct module_state {
    PyTypeObject* request_type;
    PyObject* runtime;        // the `subhttpd_runtime` package of this interpreter
    PyObject* table_type;     // _subhttpd.table
    PyObject* header_table_type;  // _subhttpd.header_table: headers_out, err_headers_out
    PyObject* server_return;  // _subhttpd.SERVER_RETURN
    PyObject* interp_name;    // str
    PyObject* str_items;      // "_items", interned
    wsgi_state* wsgi;         // made on the first WSGI request; owned here
    int request_type_complete;  // _extend_request_type has run (first request)
};

// Defined in interp/wsgi_environ.cpp; module traverse/clear call them.
int wsgi_state_traverse(wsgi_state* ws, visitproc visit, void* arg);
void wsgi_state_free(wsgi_state* ws);

module_state* get_module_state(PyObject* module);
void set_interpreter_name(PyObject* module, const std::string& name);

// New reference to a fresh `req` object for `ctx` in the module's interpreter, or NULL.
PyObject* new_request(PyObject* module, request_ctx* ctx);
// Copies the req object's tables into ctx and detaches it (further use raises).
void detach_request(PyObject* req, request_ctx* ctx);
// Copies the req object's tables into ctx without detaching.
void export_tables(PyObject* req, request_ctx* ctx);

// Python code in some interpreter called os.chdir, os.fchdir or os.umask since
// the last call (the runtime wraps them): the process-wide cwd/umask may have
// changed. Any thread; no GIL needed.
bool take_process_state_touched();
void note_process_state_touched();  // what the runtime's wrappers call

}  // namespace subhttpd::interp
