"""What a store raises when the shared database cannot do its part (a leaf: the server's error translation imports it
without loading anything else of the database)."""

__all__ = ["DatabaseUnavailable"]


class DatabaseUnavailable(Exception):
    """The database could not be reached, stopped answering, or did not answer within its bounds; the message names
    it by its redacted URL."""
