#pragma once
// Reading the request body from an `exchange`: the one place that turns what
// read_body() hands out into a Python bytes object (req.read, wsgi.input.read)
// or into a whole string (the offload copy). The caller holds the GIL of the
// request's interpreter for the PyObject* function; the other needs no Python.
#include <Python.h>

#include <cstddef>
#include <string>

#include "interp/exchange.h"

namespace subhttpd::interp {

// Up to `want` more body bytes (fewer at the body's end): new reference, or
// NULL with an exception set.
PyObject* read_body_bytes(exchange& ex, std::size_t want);

// The rest of the body.
std::string read_whole_body(exchange& ex);

}  // namespace subhttpd::interp
