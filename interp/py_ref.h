#pragma once
// py::ref owns one strong reference; py::handle borrows one. A ref is built only
// through steal() (take a new reference) or borrow() (add one); release() hands
// the reference to an API that steals it. Only a thread holding the GIL of the
// object's interpreter may create, copy or destroy a ref.
#include <Python.h>

#include <utility>

namespace subhttpd::py {

class handle {
public:
    handle() = default;
    explicit handle(PyObject* p) : p_(p) {}
    PyObject* get() const { return p_; }
    explicit operator bool() const { return p_ != nullptr; }

protected:
    PyObject* p_ = nullptr;
};

class ref {
public:
    ref() = default;
    ref(const ref& o) : p_(o.p_) { Py_XINCREF(p_); }
    ref(ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    ref& operator=(ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~ref() { Py_XDECREF(p_); }

    static ref steal(PyObject* p) { return ref(p); }  // new reference, or NULL
    static ref borrow(PyObject* p) {
        Py_XINCREF(p);
        return ref(p);
    }

    PyObject* get() const { return p_; }
    PyObject* release() { return std::exchange(p_, nullptr); }
    void reset() { Py_CLEAR(p_); }
    explicit operator bool() const { return p_ != nullptr; }
    handle view() const { return handle(p_); }

private:
    explicit ref(PyObject* p) : p_(p) {}
    PyObject* p_ = nullptr;
};

}  // namespace subhttpd::py
