// The native `subhttpd` module: multi-phase init, module state, the request
// type made from its spec (request_type.cpp), logging.
#include "interp/module.h"

#include <atomic>
#include <utility>

#include "common/log.h"
#include "interp/py_util.h"
#include "interp/request_object.h"

namespace subhttpd::interp {

using namespace req_impl;

namespace {

// Process-wide, like the cwd and umask it stands for (no Python object).
std::atomic<bool> process_state_touched{false};

PyObject* mod_process_state_touched(PyObject*, PyObject*) {
    note_process_state_touched();
    Py_RETURN_NONE;
}

// ---- module ---------------------------------------------------------------

PyObject* mod_log(PyObject* module, PyObject* const* args, Py_ssize_t nargs) {
    std::string level, msg;
    if (nargs != 2 || !py::to_string(args[0], level) || !py::to_string(args[1], msg)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "_log(level, message)");
        }
        return nullptr;
    }
    module_state* st = state_of(module);
    std::string name;
    if (st->interp_name != nullptr) {
        py::to_string(st->interp_name, name);
    }
    log::level lv = level == "error" ? log::level::error
                    : level == "warn" ? log::level::warn
                    : level == "debug" ? log::level::debug
                                       : log::level::info;
    log::write(lv, "python", name, msg);
    Py_RETURN_NONE;
}

PyObject* mod_interpreter_name(PyObject* module, PyObject*) {
    module_state* st = state_of(module);
    if (st->interp_name == nullptr) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(st->interp_name);
}

PyMethodDef module_methods[] = {
    {"_log", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(mod_log)), METH_FASTCALL,
     "_log(level, message): a line in the error log, with this interpreter's name"},
    {"interpreter_name", mod_interpreter_name, METH_NOARGS, "the name of this interpreter"},
    {"_process_state_touched", mod_process_state_touched, METH_NOARGS,
     "_process_state_touched(): os.chdir/os.fchdir/os.umask ran; the server checks cwd and umask"},
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* m) {
    module_state* st = state_of(m);
    st->str_items = PyUnicode_InternFromString("_items");
    if (st->str_items == nullptr) {
        return -1;
    }
    st->runtime = PyImport_ImportModule("subhttpd_runtime");
    if (st->runtime == nullptr) {
        return -1;
    }
    st->table_type = PyObject_GetAttrString(st->runtime, "table");
    st->header_table_type = PyObject_GetAttrString(st->runtime, "header_table");
    st->server_return = PyObject_GetAttrString(st->runtime, "SERVER_RETURN");
    if (st->table_type == nullptr || st->header_table_type == nullptr || st->server_return == nullptr) {
        return -1;
    }
    st->request_type = reinterpret_cast<PyTypeObject*>(PyType_FromModuleAndSpec(m, &req_spec, nullptr));
    if (st->request_type == nullptr) {
        return -1;
    }
    if (PyModule_AddObjectRef(m, "request", reinterpret_cast<PyObject*>(st->request_type)) < 0) {
        return -1;
    }
    // Return codes and helpers shared with mod_python.apache.
    py::ref names = py::ref::steal(PyObject_CallMethod(st->runtime, "_exported_names", nullptr));
    if (!names) {
        return -1;
    }
    py::ref seq = py::ref::steal(PySequence_Fast(names.get(), "names"));
    if (!seq) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i) {
        PyObject* name = PySequence_Fast_GET_ITEM(seq.get(), i);
        py::ref v = py::ref::steal(PyObject_GetAttr(st->runtime, name));
        if (!v || PyObject_SetAttr(m, name, v.get()) < 0) {
            return -1;
        }
    }
    // The members written in Python are added when the first request is made:
    // an interpreter that only runs `import` entries never loads them.
    return 0;
}

int module_traverse(PyObject* m, visitproc visit, void* arg) {
    module_state* st = state_of(m);
    Py_VISIT(st->request_type);
    Py_VISIT(st->runtime);
    Py_VISIT(st->table_type);
    Py_VISIT(st->header_table_type);
    Py_VISIT(st->server_return);
    Py_VISIT(st->interp_name);
    if (st->wsgi != nullptr) {
        if (int r = wsgi_state_traverse(st->wsgi, visit, arg)) {
            return r;
        }
    }
    return 0;
}

int module_clear(PyObject* m) {
    module_state* st = state_of(m);
    Py_CLEAR(st->request_type);
    Py_CLEAR(st->runtime);
    Py_CLEAR(st->table_type);
    Py_CLEAR(st->header_table_type);
    Py_CLEAR(st->server_return);
    Py_CLEAR(st->interp_name);
    Py_CLEAR(st->str_items);
    wsgi_state_free(std::exchange(st->wsgi, nullptr));
    return 0;
}

void module_free(void* m) { module_clear(static_cast<PyObject*>(m)); }

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "subhttpd",
    "subhttpd's native module: the request type, return codes, logging.",
    sizeof(module_state),
    module_methods,
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

}  // namespace

module_state* get_module_state(PyObject* module) { return state_of(module); }

void set_interpreter_name(PyObject* module, const std::string& name) {
    module_state* st = state_of(module);
    Py_XSETREF(st->interp_name, py::str(name));
    if (st->interp_name == nullptr) {
        PyErr_Clear();
    }
}

PyObject* new_request(PyObject* module, request_ctx* ctx) {
    module_state* st = state_of(module);
    PyTypeObject* tp = st->request_type;
    if (!st->request_type_complete) {
        py::ref r = py::ref::steal(
            PyObject_CallMethod(st->runtime, "_extend_request_type", "O", reinterpret_cast<PyObject*>(tp)));
        if (!r) {
            return nullptr;
        }
        st->request_type_complete = 1;
    }
    auto* self = reinterpret_cast<request_object*>(tp->tp_alloc(tp, 0));
    if (self == nullptr) {
        return nullptr;
    }
    self->ctx = ctx;
    return reinterpret_cast<PyObject*>(self);
}

void note_process_state_touched() { process_state_touched.store(true, std::memory_order_relaxed); }

bool take_process_state_touched() { return process_state_touched.exchange(false, std::memory_order_relaxed); }

}  // namespace subhttpd::interp

extern "C" PyObject* PyInit_subhttpd() { return PyModuleDef_Init(&subhttpd::interp::module_def); }
