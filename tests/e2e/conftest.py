"""Browser fixtures: one headless Debian Chromium per session, a fresh context per test.

Never downloads a browser: Playwright drives the system Chromium (CHROMIUM_PATH, default
/usr/bin/chromium). Tests marked `e2e` are skipped by the root conftest when it is missing,
before any of these fixtures run.
"""

import io
import os
import re

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# (seeding) would otherwise trip Django's async-safety check.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # as in tests/conftest.py
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def viewport():
    """Override in a test module or with `@pytest.mark.parametrize` for other sizes."""
    return DESKTOP


@pytest.fixture
def context(browser, viewport):
    ctx = browser.new_context(locale="zh-CN", viewport=viewport)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request, tmp_path):
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        path = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failing page: {path} (url {page.url})")
        except Exception as exc:  # a screenshot must never hide the real failure
            print(f"could not save a screenshot: {exc}")
    page.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def demo(live_server):
    """The demo organizations and logins, in the live server's database."""
    call_command("seed_demo", stdout=io.StringIO())
    return live_server


class Site:
    """Small helpers bound to one page and the live server's address."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def url_re(self, path: str) -> re.Pattern:
        """The page URL is at `path` (query string allowed)."""
        return re.compile(re.escape(self.url(path)) + r"(\?.*)?$")

    def goto(self, path: str):
        return self.page.goto(self.url(path))

    def log_in(self, email: str, password: str):
        self.goto("/accounts/login/")
        form = self.page.locator("main form")
        form.locator("input[name=username]").fill(email)
        form.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            self.page.locator("main button[type=submit]").click()


@pytest.fixture
def site(page, demo):
    return Site(page, demo.url)
