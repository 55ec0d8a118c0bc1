"""Smoke tests in a real browser: log in, language, permissions, phone layout.

The browser asks for zh-CN, so the dashboard starts in Simplified Chinese (`zh-hans`).
"""

import pytest
from playwright.sync_api import expect

from demo.management.commands.seed_demo import DEMO_PASSWORD

from .conftest import PHONE

pytestmark = pytest.mark.e2e

OWNER = "owner@demo.qunyun.cn"
DEPUTY = "deputy@demo.qunyun.cn"
LOGIN = "/accounts/login/"


def main_nav(page):
    return page.locator("#main-nav .navbar-nav")


def test_owner_logs_in_sees_chinese_switches_to_english_and_logs_out(site):
    page = site.page
    site.log_in(OWNER, DEMO_PASSWORD)
    # Two organizations: the picker first.
    expect(page).to_have_url(site.url_re("/orgs/"))

    site.goto("/o/jiankang/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(main_nav(page).get_by_role("link", name="概览", exact=True)).to_be_visible()

    english = page.locator("[data-testid=language-switcher] button[name=language][value=en]")
    # Checked at the end, so that this does not hide the rest of the flow.
    english_label_in_chinese = english.inner_text().strip()
    with page.expect_navigation():
        english.click()
    expect(page).to_have_url(site.url_re("/o/jiankang/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(main_nav(page).get_by_role("link", name="Overview", exact=True)).to_be_visible()

    switcher = page.locator("[data-testid=org-switcher]")
    switcher.locator("button.dropdown-toggle").click()
    orgs = switcher.locator(".dropdown-menu .dropdown-item")
    expect(orgs).to_have_count(2)
    expect(orgs.filter(has_text="健康优选")).to_be_visible()
    expect(orgs.filter(has_text="贝贝母婴")).to_be_visible()
    page.keyboard.press("Escape")

    logout = page.locator("[data-testid=logout]")
    user_menu = page.locator("nav .dropdown").filter(has=logout)
    user_menu.locator("button.dropdown-toggle").click()
    with page.expect_navigation():
        logout.click()
    expect(page).to_have_url(site.url_re(LOGIN))
    expect(page.locator("main input[name=password]")).to_be_visible()

    site.goto("/o/jiankang/")
    expect(page).to_have_url(site.url_re(LOGIN))
    assert "next=/o/jiankang/" in page.url.replace("%2F", "/")

    # A language switcher names each language in that language: someone who reads no Chinese
    # must find "English" on the Chinese pages (the button even carries lang="en").
    assert english_label_in_chinese == "English", (
        f"the English button reads {english_label_in_chinese!r} on zh-hans pages"
    )


def test_deputy_cannot_open_api_keys(site):
    page = site.page
    site.log_in(DEPUTY, DEMO_PASSWORD)
    site.goto("/o/jiankang/")
    nav = main_nav(page)
    # The nav is there (so the missing link below means something) ...
    expect(nav.locator('a[href="/o/jiankang/"]')).to_be_visible()
    # ... but a staff member may not manage API keys.
    expect(page.locator('a[href*="/api-keys/"]')).to_have_count(0)

    response = site.goto("/o/jiankang/api-keys/")
    assert response is not None
    assert response.status == 403
    # The app's own 403 page (templates/403.html, inside the layout), not a bare error.
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator('main a[href="/"]')).to_be_visible()
    expect(page.locator("input[name=name]")).to_have_count(0)


def test_dashboard_is_usable_on_a_phone(site):
    page = site.page
    page.set_viewport_size(PHONE)
    site.log_in(OWNER, DEMO_PASSWORD)
    response = site.goto("/o/jiankang/team/")
    assert response is not None and response.status == 200

    def assert_no_horizontal_overflow():
        sizes = page.evaluate(
            "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        assert sizes["scroll"] <= sizes["inner"] + 1, f"page scrolls sideways: {sizes}"

    assert_no_horizontal_overflow()

    toggler = page.locator(".navbar-toggler")
    groups_link = page.locator('#main-nav a.nav-link[href="/o/jiankang/communities/"]')
    expect(toggler).to_be_visible()
    expect(groups_link).to_be_hidden()
    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(page.locator('#main-nav a.nav-link[href="/o/jiankang/"]')).to_be_visible()
    expect(groups_link).to_be_visible()
    expect(page.locator('#main-nav a.nav-link[href="/o/jiankang/api-keys/"]')).to_be_visible()
    assert_no_horizontal_overflow()


def test_wrong_password_shows_translated_error(site):
    page = site.page
    site.log_in(OWNER, "not-the-password")
    expect(page).to_have_url(site.url_re(LOGIN))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    alert = page.locator("main form .alert-danger")
    expect(alert).to_be_visible()
    # Django's own zh-hans catalogue: "请输入一个正确的…和密码。…"
    expect(alert).to_contain_text("密码")
    # Still a usable form, not a lockout page.
    expect(page.locator("main input[name=password]")).to_be_visible()
