import sys

from telli_mcp.doctor import main

sys.exit(main())
