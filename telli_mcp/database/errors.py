"""What a store raises when the shared database cannot do its part (a leaf: the server's error translation imports it
without loading anything else of the database)."""

__all__ = ["DatabaseUnavailable", "unanswered"]


class DatabaseUnavailable(Exception):
    """The database could not be reached, stopped answering, or did not answer within its bounds; the message names
    it by its redacted URL."""


def unanswered(label: str, seconds: float) -> DatabaseUnavailable:
    """The database named `label` (redacted) left an exchange unanswered for `seconds`."""
    return DatabaseUnavailable(f"The database {label} did not answer within {seconds:g} s")
