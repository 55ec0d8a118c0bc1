"""The owner reads the metrics in a real browser, in zh-hans: overview, sort, one group."""

import pytest
from playwright.sync_api import expect

from demo.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def _conversion_values(page):
    cells = page.locator("[data-testid=overview-row] [data-testid=conversion]")
    return [float(v) if v else -1.0 for v in (c.get_attribute("data-value") for c in cells.all())]


def test_owner_sorts_the_overview_and_opens_a_group(site):
    page = site.page
    site.log_in("owner@demo.qunyun.cn", DEMO_PASSWORD)
    site.goto("/o/jiankang/")
    page.get_by_test_id("nav-metrics").click()
    expect(page.locator("h1")).to_have_text("数据看板")
    expect(page.get_by_role("columnheader", name="转化率")).to_be_visible()
    rows = page.get_by_test_id("overview-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2

    page.get_by_test_id("sort-conversion").click()  # descending first
    expect(page.get_by_test_id("sort-conversion")).to_contain_text("↓")
    values = _conversion_values(page)
    assert values == sorted(values, reverse=True)
    assert "sort=-conversion" in page.url  # pushed: the sorted view can be shared
    page.get_by_test_id("sort-conversion").click()
    expect(page.get_by_test_id("sort-conversion")).to_contain_text("↑")
    assert _conversion_values(page) == sorted(values)

    top = rows.first.get_by_role("link")
    name = top.inner_text()
    top.click()
    expect(page.locator("h1")).to_have_text(name)
    for chart in ("members", "activity", "conversion", "revenue"):
        canvas = page.get_by_test_id(f"chart-{chart}").locator("canvas")
        expect(canvas).to_be_visible()
        assert page.evaluate("(c) => !!window.Chart.getChart(c)", canvas.element_handle())
    cohorts = page.get_by_test_id("cohort-table")
    expect(cohorts).to_be_visible()
    expect(cohorts.get_by_role("columnheader", name="第 1 周")).to_be_visible()
    expect(page.get_by_role("heading", name="入群周留存：此后每周仍活跃的比例")).to_be_visible()
    # every chart has its table: opening one shows the day rows
    page.get_by_test_id("chart-members").get_by_text("以表格查看").click()
    expect(page.get_by_test_id("chart-members").locator("tbody tr").first).to_be_visible()
