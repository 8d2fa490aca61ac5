"""An MCP client session with `telli-mcp --sandbox` over stdio, the way Claude Desktop talks to it.

    python examples/mcp_stdio_session.py

Starts the server as a subprocess, lists its tools, creates a contact, schedules a call (the server asks for
confirmation through elicitation; this script plays the user and says yes), moves the sandbox clock forward
so the dialer phones the contact, then reads the call and its transcript. The sandbox is a simulated telli
account: no key is needed and nobody is called. Exits non-zero if any step does not behave as described.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitRequestParams, ElicitResult, TextContent


def server_command() -> tuple[str, list[str]]:
    """The `telli-mcp` installed next to this Python, else the same program as a module."""
    script = shutil.which("telli-mcp", path=str(Path(sys.executable).parent))
    if script:
        return script, ["--sandbox"]
    return sys.executable, ["-m", "telli_mcp", "--sandbox"]


class SaysYes:
    """Plays the human: shows each confirmation question and accepts it."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if not isinstance(params, ElicitRequestFormParams):
            return ElicitResult(action="decline")
        self.questions.append(params.message)
        print(f"   the server asks: {params.message!r}\n   the user answers: yes")
        return ElicitResult(action="accept", content={"confirm": True})


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments or {})
    content: dict[str, Any] | None = result.structured_content
    if result.is_error or content is None:
        raise SystemExit(f"FAILED: {tool} returned an error: {text_of(result)}")
    return content


async def main() -> None:
    command, args = server_command()
    # No TELLI_* settings from this shell: the sandbox needs none, and a real key must not leak into a demo.
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELLI_")}
    user = SaysYes()
    print(f"1. starting {Path(command).name} {' '.join(args)} over stdio")
    with anyio.fail_after(120):
        async with Client(
            StdioServerParameters(command=command, args=args, env=env), elicitation_callback=user
        ) as client:
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
            title = client.server_info.title if client.server_info else "the server"
            print(f"2. {title} offers {len(tools)} tools: {', '.join(tools)}")

            contact = await call(
                client,
                "create_contact",
                {
                    "first_name": "Ida",
                    "last_name": "Roth",
                    "phone_number": "+493090182042",
                    "external_id": "stdio-example-1",
                    "timezone": "Europe/Berlin",
                },
            )
            print(f"3. created contact {contact['contact_id']}")

            agent = (await call(client, "list_agents"))["agents"][0]
            print(f"4. scheduling a call with agent {agent['title']!r}")
            scheduled = await call(
                client, "schedule_calls", {"contact_ids": [contact["contact_id"]], "agent_id": agent["agent_id"]}
            )
            if not user.questions:
                raise SystemExit("FAILED: schedule_calls did not ask for confirmation")
            print(f"   result: {scheduled}")

            clock = await call(client, "advance_sandbox_clock", {"minutes": 24 * 60})
            print(f"5. sandbox clock moved forward one day: {clock}")

            calls = (await call(client, "list_calls", {"contact_id": contact["contact_id"]}))["calls"]
            if not calls:
                raise SystemExit("FAILED: the dialer never called the contact")
            print(f"6. {len(calls)} call(s); newest: {calls[0]['status']}")
            completed = [item for item in calls if item["status"] == "COMPLETED"] or calls
            details = await call(client, "get_call", {"call_id": completed[0]["call_id"]})
            print(f"   call details: {sorted(details)}")
            transcript = await call(client, "get_call_transcript", {"call_id": completed[0]["call_id"]})
            print(f"7. transcript ({transcript.get('total_chars')} characters):")
            print("   " + str(transcript.get("text", transcript)).replace("\n", "\n   ")[:800])
    print("OK")


if __name__ == "__main__":
    try:
        anyio.run(main)
    except SystemExit:
        raise
    except Exception as error:  # a crash must still read as a failed example, with its cause
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from error
