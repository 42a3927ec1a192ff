#pragma once
// crash_trace: the Python stack of the crashing thread, for the reactor's crash
// handler (faulthandler's job, for whichever interpreter that thread is in).
// Called only from a fatal-signal handler, where the process is about to die:
// it takes no lock and frees nothing; a thread without the GIL has no stack to show.
namespace subhttpd::interp {

// Writes "  File "...", line N in name" lines, most recent call first, to `fd`.
void dump_python_stack(int fd) noexcept;

}  // namespace subhttpd::interp
