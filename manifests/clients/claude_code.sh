# Claude Code: `claude mcp add <name> [options] -- <command> [args...]`.
# The server name comes BEFORE --env: --env takes several values and would swallow a name written after it.
# "$TELLI_API_KEY" is expanded by your shell from its environment, so the key is not typed into shell history;
# Claude Code stores it in the server's env block, and telli-mcp never receives it as an argument.

# Real account (user scope: available in every project)
claude mcp add telli --scope user --env TELLI_API_KEY="$TELLI_API_KEY" -- uvx telli-mcp

# Read tools only
claude mcp add telli-read-only --scope user --env TELLI_API_KEY="$TELLI_API_KEY" -- uvx telli-mcp --read-only

# Sandbox: simulated account with demo data, no key, nobody is called
claude mcp add telli-sandbox -- uvx telli-mcp --sandbox

# A telli-mcp HTTP deployment (telli-mcp --transport http, or the Dockerfile); the key travels as a bearer token
claude mcp add telli-http --transport http https://telli-mcp.example.com/mcp --header "Authorization: Bearer $TELLI_API_KEY"
