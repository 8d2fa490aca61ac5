"""How long anything may wait on the shared database: every connection telli-mcp opens carries these bounds.

A store's statements run on the event loop (see `sql.py`), so a wait there stops the whole replica, its health
probe included; and one replica frozen inside a transaction must not stop the others. So no wait is unbounded:

* `lock_timeout`: a row or advisory lock held by another replica (frozen, or on the far side of a network
  partition) is waited for this long, then the statement fails and the tool says the database did not answer;
* `statement_timeout`: no statement runs longer (the stores' statements take milliseconds);
* `idle_in_transaction_session_timeout`: the server ends the session of a replica that froze inside a
  transaction, which releases its locks;
* TCP keepalives and `tcp_user_timeout`: a connection whose network went silent (no reset) is declared dead
  within seconds instead of the kernel's two hours;
* `unanswered`, on this side: a server process that stopped answering while its machine's kernel still
  acknowledges trips none of the above, so a watchdog ends any exchange left unanswered this long (`watchdog.py`).

Migrations set their own longer lock wait (`migrations.migrate`) and run before these are applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["RECONNECT_PAUSE", "RECONNECT_PAUSE_AT_MOST", "Bounds", "doubled", "reconnect_pause"]

RECONNECT_PAUSE: Final = 2.0
"""Seconds after a failed connect (or an exchange the server left unanswered) during which a session fails at once
with the same error, instead of every statement of every request waiting out the connect timeout again."""
RECONNECT_PAUSE_AT_MOST: Final = 30.0
"""The pause doubles with each failure in a row, up to this. Each attempt on a server that stopped answering waits
out the connect timeout on the event loop, so while the database is in trouble the replica spends most of its time
free for the tools that do not need it (and for its health check), and uses the database again at most this long
after it is back."""


def doubled(first: float, at_most: float, times: int) -> float:
    """`first` doubled `times` times, up to `at_most`: the wait after failures in a row (0 times: `first`)."""
    return min(first * float(2 ** min(times, 16)), at_most)


def reconnect_pause(failures: int) -> float:
    """The pause after `failures` failed attempts in a row (1 or more)."""
    return doubled(RECONNECT_PAUSE, RECONNECT_PAUSE_AT_MOST, failures - 1)


@dataclass(frozen=True)
class Bounds:
    connect_timeout: float = 5.0
    lock_timeout: float = 5.0
    statement_timeout: float = 15.0
    idle_in_transaction: float = 30.0
    silent_network: float = 10.0
    """Seconds of unacknowledged data (tcp_user_timeout) or of keepalive silence before a connection is dead."""
    unanswered: float = 20.0
    """Seconds a statement, or a transaction with its statements, may go without an answer before this side ends
    it (`watchdog.py`): a backstop for a server that stopped, beyond `statement_timeout`, which the server enforces."""

    def connect_kwargs(self) -> dict[str, Any]:
        """libpq connection parameters (whole seconds where libpq wants them; it treats 1 as 2)."""
        return {
            "connect_timeout": max(2, round(self.connect_timeout)),
            "keepalives": 1,
            "keepalives_idle": max(1, round(self.silent_network / 2)),
            "keepalives_interval": 1,
            "keepalives_count": max(1, round(self.silent_network / 2)),
            "tcp_user_timeout": round(self.silent_network * 1000),
        }

    def settings(self) -> dict[str, str]:
        """The session settings, as `SET` takes them."""
        return {
            "lock_timeout": f"{round(self.lock_timeout * 1000)}ms",
            "statement_timeout": f"{round(self.statement_timeout * 1000)}ms",
            "idle_in_transaction_session_timeout": f"{round(self.idle_in_transaction * 1000)}ms",
        }

    def session_statement(self) -> tuple[str, tuple[str, ...]]:
        """One statement that sets the session's bounds, with its parameters (for sync and async connections)."""
        values = self.settings()
        return "SELECT " + ", ".join(f"set_config('{name}', %s, false)" for name in values), tuple(values.values())

    def apply(self, connection: Connection[Any]) -> None:
        """Set the session's bounds (one round trip), after any migration: those wait longer on purpose."""
        connection.execute(*self.session_statement())
