"""A bound on a synchronous connection's wait that holds even when the database server stops answering altogether.

The server's own bounds (`statement_timeout`, `lock_timeout`) are enforced by the server, and TCP's
(`tcp_user_timeout`, keepalives) by the kernels. A server process that stopped (SIGSTOP, a storage hang that
leaves it stuck in I/O) trips none of them: its machine's kernel still acknowledges every byte and every
keepalive, and nothing is left to run the statement's timer. A synchronous psycopg wait on such a connection never
ends, and with it the event loop that made it. (Measured: a stopped PostgreSQL held a `SELECT` for as long as it
was stopped, 40 s in the test.)

`Watchdog` is the bound on this side: one thread per session, armed for each exchange with the server. When an
exchange outlasts its bound, the thread shuts the connection's socket down; the wait then ends at once with an
error, and the session reports the database unavailable and connects afresh next time. One thread that sleeps
on a condition, not a timer per statement: arming and disarming cost a lock, not a thread start.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import suppress

__all__ = ["Watchdog"]


class Watchdog:
    """Shuts down the socket of an exchange that outlasts its bound (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._changed = threading.Condition()
        self._socket: socket.socket | None = None
        """A duplicate of the watched connection's descriptor, held until `disarm`: the connection may close its own
        (libpq does on a reset) and the number be reused by another socket, but this one stays on the same socket."""
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        """Which thread is the current one: `stop` moves it on, and the thread it started with ends."""
        self.fired = False
        """Whether the armed exchange was cut off (until `disarm`)."""
        self.seconds = 0.0
        """The bound of the exchange being (or last) watched."""

    def arm(self, socket_fd: int, seconds: float) -> None:
        """Watch the exchange on `socket_fd` that starts now; `disarm` when it ended."""
        watched = socket.socket(fileno=os.dup(socket_fd))
        with self._changed:
            self._release()
            self._socket, self.seconds, self.fired = watched, seconds, False
            self._deadline = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, args=(self._generation,), name=self._name, daemon=True
                )
                self._thread.start()
            self._changed.notify()

    @property
    def armed(self) -> bool:
        """Whether an exchange is being watched (from `arm` until `disarm`, cut off or not)."""
        return self._socket is not None

    def extend(self, seconds: float) -> None:
        """A further wait within the armed exchange (the next statement of a transaction) gets `seconds` from now."""
        with self._changed:
            if self._socket is not None and not self.fired:
                self._deadline, self.seconds = time.monotonic() + seconds, seconds

    def disarm(self) -> bool:
        """The exchange ended; whether it was cut off."""
        with self._changed:
            self._release()
            fired, self.fired = self.fired, False
            return fired

    def stop(self) -> None:
        """End the thread (the session is closed; if it is used again, the next `arm` starts another)."""
        with self._changed:
            thread, self._thread = self._thread, None
            self._generation += 1
            self._release()
            self._changed.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join()  # at once: it only has to wake up and see it is no longer the current one

    def _release(self) -> None:
        """Under the lock: stop watching, and close the duplicate descriptor."""
        watched, self._socket, self._deadline = self._socket, None, None
        if watched is not None:
            watched.close()

    def _watch(self, generation: int) -> None:
        with self._changed:
            while self._generation == generation:
                if self._deadline is None:
                    self._changed.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._changed.wait(remaining)
                    continue
                assert self._socket is not None
                self.fired = True
                with suppress(OSError):  # already reset: the wait has ended, or is about to, on its own
                    self._socket.shutdown(socket.SHUT_RDWR)  # the connection's wait ends with an error now
                self._deadline = None  # the duplicate stays open until `disarm` closes it
