import sys

from telli_mcp.cli import main

sys.exit(main())
