"""Fixtures shared by the browser tests: Debian's Chromium, launched once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_harness import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import Browser, sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
