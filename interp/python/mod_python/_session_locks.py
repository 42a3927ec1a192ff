"""Session locks: flock() on files in a lock directory, shared by the threads
of a process and by every worker process (mod_python 3.5 used Apache's global
mutexes). Used by mod_python.Session and mod_python.psp's dbm cache; any thread
may call them."""

import errno
import os
import threading
import time
import zlib

LOCK_SLOTS = 256  # session ids hash onto this many lock files; slot 0 guards dbm files


class _LockTable(object):
    """flock()-based locks shared by threads and processes.

    A thread that already holds a slot may take it again (another session id
    hashing to the same slot in one request must not deadlock); the slot is
    released when every acquisition has been released."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._held = {}  # (directory, slot) -> [thread id, count, fd]

    @staticmethod
    def slot_of(key):
        if key is None:
            return 0
        return zlib.crc32(str(key).encode("utf-8", "surrogateescape")) % (LOCK_SLOTS - 1) + 1

    @staticmethod
    def _open(directory, slot):
        try:
            os.makedirs(directory, 0o700, exist_ok=True)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
        return os.open(os.path.join(directory, "lock.%03d" % slot), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self, directory, key, blocking=True):
        import fcntl
        ident = (directory, self.slot_of(key))
        me = threading.get_ident()
        with self._mutex:
            held = self._held.get(ident)
            if held is not None and held[0] == me:
                held[1] += 1
                return True
        fd = self._open(*ident)
        delay = 0.001
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                    if not blocking:
                        os.close(fd)
                        return False
                time.sleep(delay)  # interruptible: a handler_timeout can end the wait
                delay = min(delay * 2, 0.05)
        except BaseException:
            os.close(fd)
            raise
        with self._mutex:
            self._held[ident] = [me, 1, fd]
        return True

    def release(self, directory, key):
        import fcntl
        ident = (directory, self.slot_of(key))
        with self._mutex:
            held = self._held.get(ident)
            if held is None:  # the holder may release from another thread (cleanups)
                return False
            held[1] -= 1
            if held[1] > 0:
                return True
            del self._held[ident]
        try:
            fcntl.flock(held[2], fcntl.LOCK_UN)
        finally:
            os.close(held[2])
        return True


_locks = _LockTable()
