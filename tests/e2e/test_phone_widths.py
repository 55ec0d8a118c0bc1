"""Every dashboard page fits a 390 px phone: the page never scrolls sideways, and no table or
box inside it does either (wide tables become cards, app.css `table-cards`).

The pages are the ones the zh-hans walk visits (tests/dashboard_pages.py), as the demo's owner
and its deputy, and the member pages (tests/member_pages.py) as a demo member. Chinese text needs a CJK font for real widths (fonts-wqy-microhei, see
RECIPES.md); without one the glyphs are boxes of about the same width.
"""

import pytest
from playwright.sync_api import expect

from demo.management.commands.seed_demo import DEMO_PASSWORD
from tenancy.models import Organization, User

from ..dashboard_pages import dashboard_pages
from ..member_pages import member_pages
from .conftest import PHONE

pytestmark = pytest.mark.e2e

MEASURE = """() => {
  const inner = window.innerWidth;
  const boxes = [];
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    const scrolls = style.overflowX === "auto" || style.overflowX === "scroll";
    if (scrolls && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      boxes.push(`${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth}px`);
    }
  }
  return {inner, page: document.documentElement.scrollWidth, boxes};
}"""


@pytest.mark.parametrize("viewport", [PHONE])
@pytest.mark.parametrize("email", ["owner@demo.qunyun.cn", "deputy@demo.qunyun.cn"])
def test_every_page_fits_a_phone(site, email):
    org = Organization.objects.get(slug="jiankang")
    pages = dashboard_pages(org, User.objects.get(email="deputy@demo.qunyun.cn"))
    site.log_in(email, DEMO_PASSWORD)
    too_wide, seen = [], 0
    for _name, path in pages:
        response = site.goto(path)
        if response is None or response.status != 200:
            continue
        if "html" not in (response.headers.get("content-type") or ""):
            continue
        seen += 1
        sizes = site.page.evaluate(MEASURE)
        if sizes["page"] > sizes["inner"] + 1 or sizes["boxes"]:
            too_wide.append(f"{path}: page {sizes['page']}px, scrolling boxes {sizes['boxes']}")
    assert seen > 10, "the walk reached too few pages to mean anything"
    assert not too_wide, "\n".join(too_wide)


@pytest.mark.parametrize("viewport", [PHONE])
def test_every_member_page_fits_a_phone(site, settings):
    """The member pages (tests/member_pages.py), signed in as a demo member by their link."""
    from members import access

    from ..i18n.test_pages_in_words import demo_member

    settings.SITE_URL = site.base_url
    org = Organization.objects.get(slug="jiankang")
    member = demo_member(org)
    pages = member_pages(org, member)
    site.page.goto(access.personal_link(member, "me/"))
    too_wide, seen = [], 0
    for _name, path in pages:
        response = site.goto(path)
        if response is None or response.status != 200:
            continue
        seen += 1
        sizes = site.page.evaluate(MEASURE)
        if sizes["page"] > sizes["inner"] + 1 or sizes["boxes"]:
            too_wide.append(f"{path}: page {sizes['page']}px, scrolling boxes {sizes['boxes']}")
    assert seen >= 12, "the walk reached too few member pages to mean anything"
    assert not too_wide, "\n".join(too_wide)


def test_the_campaign_form_switches_fields_with_the_kind(site):
    page = site.page
    site.log_in("owner@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/campaigns/new/")
    form = page.locator("main form")
    price, prizes, team = (
        form.locator(f"[name={name}]") for name in ("price", "prizes", "team_size")
    )
    expect(price).to_be_visible()
    expect(prizes).to_be_hidden()
    form.locator("select[name=kind]").select_option("lottery")
    expect(prizes).to_be_visible()
    expect(price).to_be_hidden()
    expect(team).to_be_hidden()
    form.locator("select[name=kind]").select_option("group_buy")
    expect(team).to_be_visible()
    expect(price).to_be_visible()
    expect(prizes).to_be_hidden()
