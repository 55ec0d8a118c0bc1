"""The bench harness itself: its one table of application entry points still resolves, every
benchmark has a plan at every scale and correctness checks, and the files stay small."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.lib import app, figures, report
from bench.lib.plan import PLAN, SCALES

BENCH = Path(__file__).resolve().parents[2] / "bench"
MAX_LINES = 400


@pytest.mark.parametrize("name", sorted(app.ENTRY_POINTS))
def test_every_application_entry_point_resolves(name):
    """A module moved by a refactoring fails here, naming the line of bench/lib/app.py."""
    assert app.resolve(name) is not None


def test_every_benchmark_has_a_plan_at_every_scale_and_checks():
    scripts = {
        p.stem for p in BENCH.glob("*.py") if p.stem not in {"__init__", "run_all", "profile_pages"}
    }  # each script at the top of bench/ is a benchmark, but the runner and the page profiler
    assert scripts == set(PLAN)
    for name, per_scale in PLAN.items():
        assert set(per_scale) == set(SCALES), name
    assert set(figures.CHECKS) == set(PLAN)


def test_a_failed_benchmark_is_a_failed_check():
    steps = {"flash_sale": {"rc": 1, "json": None}, "dispatch_posts": {"rc": 0, "json": None}}
    assert [c["ok"] for c in figures.checks(steps)] == [False, False]


def test_the_table_goes_between_its_scale_markers_only(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(
        "# Performance\n\nprose\n\n<!-- bench:start -->\n<!-- bench:small:start -->\nold\n"
        "<!-- bench:small:end -->\n<!-- bench:end -->\n\nmore prose\n"
    )
    result = {
        "scale": "tiny",
        "started": "2026-01-01T00:00:00+00:00",
        "wall_s": 60.0,
        "machine": {"cores": 2, "load_average_at_start": [1.0, 1.0, 1.0]},
        "steps": {"dispatch_posts": {"rc": 0, "json": None}},
        "figures": [],
        "checks": [{"benchmark": "dispatch_posts", "check": "0 duplicates", "ok": True}],
    }
    report.write_doc(result, doc)
    text = doc.read_text()
    assert "<!-- bench:small:start -->\nold\n<!-- bench:small:end -->" in text
    assert "<!-- bench:tiny:start -->" in text and text.endswith("more prose\n")
    assert "Correctness checks: all 1 held." in text


def test_no_bench_file_grows_past_the_limit():
    long = {
        str(p.relative_to(BENCH.parent)): n
        for p in BENCH.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by concern (at most {MAX_LINES} lines): {long}"
