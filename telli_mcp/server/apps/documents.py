"""The apps' HTML documents, assembled from the files in `web/` when the server starts.

Each app (`web/<name>.html`) holds its own markup, style and script; what they share, the host bridge, the safe DOM
helpers, the charts (`web/shared.js`) and the look (`web/shared.css`), is kept once and inlined into every document
here, so each document the host receives is self-contained. Its Content-Security-Policy allows no network and no
script or style but the document's own blocks, named by their SHA-256 (so neither markup that slipped in with data
nor an event-handler attribute could run).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

__all__ = ["MAX_DOCUMENT_BYTES", "document"]

WEB = Path(__file__).with_name("web")
MAX_DOCUMENT_BYTES = 60 * 1024
"""What one app may weigh (tests/apps checks it): hosts load it for every tool call that shows it."""

_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_SHARED = {
    "<!-- telli:shared-style -->": ("style", "shared.css"),
    "<!-- telli:shared-script -->": ("script", "shared.js"),
}
_CSP_MARKER = "<!-- telli:csp -->"


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _policy(html: str) -> str:
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _BLOCK.findall(html):
        hashes[kind].append(_digest(body))
    return (
        "default-src 'none'; "
        f"script-src {' '.join(hashes['script'])}; style-src {' '.join(hashes['style'])}; "
        "img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )


@cache
def document(name: str) -> str:
    """The self-contained HTML of the app `web/<name>.html`."""
    html = (WEB / f"{name}.html").read_text(encoding="utf-8")
    for marker, (tag, source) in _SHARED.items():
        html = html.replace(marker, f"<{tag}>{(WEB / source).read_text(encoding='utf-8')}</{tag}>")
    policy = _policy(html)
    return html.replace(_CSP_MARKER, f'<meta http-equiv="Content-Security-Policy" content="{policy}">')
