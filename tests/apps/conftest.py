"""Browser fixtures: Debian's Chromium driven by Playwright (no `playwright install`: the system browser is used).

Where Chromium or Playwright is missing the browser tests skip, saying how to install them; on CI (CI=true) they
fail instead, since `.ci/run` installs both.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from app_host import CHROMIUM, CHROMIUM_ARGS

INSTALL = "install Chromium with `sudo apt-get install -y chromium` and Playwright with `pip install -e '.[dev]'`"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    return None


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A fresh page in headless Chromium. Every test ends by checking the app asked the network for nothing."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: .ci/run should have installed it ({INSTALL})")
        pytest.skip(f"browser tests skipped: {missing}; {INSTALL}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 760, "height": 1600}, color_scheme="light")
            requests: list[str] = []
            context.on("request", lambda request: requests.append(request.url))
            opened = await context.new_page()
            yield opened
            assert [url for url in requests if not url.startswith(("about:", "data:"))] == []
        finally:
            await browser.close()
