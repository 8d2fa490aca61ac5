"""The simulator's built-in API keys: importable without building a simulator (the sandbox needs the key first)."""

__all__ = ["DEMO_API_KEY", "TEST_API_KEY"]

DEMO_API_KEY = "telli-sandbox-demo-key"
"""The seeded account used by `telli-mcp --sandbox`."""
TEST_API_KEY = "sim-test-key"
