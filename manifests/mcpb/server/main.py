"""MCP Bundle entry point: the uv runtime installed telli-mcp from PyPI; run its stdio server.

Settings arrive as environment variables from the manifest's `user_config` (never as arguments), so the
API key stays out of process listings.
"""

import sys

from telli_mcp.cli import main

if __name__ == "__main__":
    sys.exit(main())
