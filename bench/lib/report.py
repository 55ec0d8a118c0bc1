"""The results table of one run and its block in docs/performance.md.

The table lives between `<!-- bench:<scale>:start -->` and `<!-- bench:<scale>:end -->` inside
`<!-- bench:start -->` … `<!-- bench:end -->`: a run replaces its own scale's block, so the prose
around it and the other scales' tables survive.
"""

from __future__ import annotations

import re
from pathlib import Path

from .env import ROOT
from .figures import fmt
from .plan import FRESH, PLAN

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def reused_datasets(steps: dict) -> bool | None:
    """True if every benchmark that keeps a dataset reused it, False if all generated theirs,
    None if some did each (or none ran)."""
    flags = []
    for name in FRESH:
        data = (steps.get(name) or {}).get("json") or {}
        flag = data.get("reused")
        if flag is None and isinstance(data.get("dataset"), dict):  # synthetic.py's
            flag = data["dataset"].get("reused")
        if flag is not None:
            flags.append(bool(flag))
    if not flags or len(set(flags)) > 1:
        return None
    return flags[0]


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


DATASETS = {
    True: "the datasets were reused",
    False: "datasets generated in this run",
    None: "some datasets generated in this run",
}


def table(result: dict) -> str:
    scale = result["scale"]
    m = result["machine"]
    date = result["started"][:10]
    load = m["load_average_at_start"][0]
    where = f"{m['cores']} cores, load {load:.1f}"
    ran = [name for name in PLAN if name in result["steps"]]
    command = (
        f"`make bench SCALE={scale}`"
        if len(ran) == len(PLAN)
        else f"`bench/run_all.py --scale {scale} --only {','.join(ran)}`"
    )
    syn = (result["steps"].get("synthetic") or {}).get("json") or {}
    rows = syn.get("rows", {})
    lines = [
        f"### Scale `{scale}` — {result['started'][:16].replace('T', ' ')} UTC",
        "",
        f"{command}: wall time {result['wall_s'] / 60:.1f} min "
        f"({DATASETS[result.get('reused')]}); "
        f"{m['cores']} cores ({m.get('cpu', '?')}), {m.get('memory_gb', '?')} GB, "
        f"PostgreSQL {m.get('postgresql', '?')}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}; commit "
        f"{result.get('commit', '?')}."
        + (
            f" Synthetic organization: {rows.get('communities', 0):,} groups, "
            f"{rows.get('members', 0):,} members, {rows.get('memberships', 0):,} memberships, "
            f"{rows.get('raw_events', 0):,} raw events, {rows.get('orders', 0):,} orders."
            if rows
            else ""
        ),
        "",
        "| benchmark | figure | value | raw baseline | ratio | target / check | scale | date | machine |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in result["figures"]:
        mark = "" if f["ok"] is None else (" ✅" if f["ok"] else " ❌")
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    f["benchmark"],
                    f["figure"],
                    fmt(f["value"], f["unit"]),
                    f"{f['baseline']}: {fmt(f['baseline_value'], f['baseline_unit'])}",
                    f["ratio_text"],
                    f"{f['target']}{mark}".strip() or "—",
                    scale,
                    date,
                    where,
                )
            )
            + " |"
        )
    held = [c for c in result.get("checks", []) if c["ok"]]
    broken = [c for c in result.get("checks", []) if not c["ok"]]
    if broken:
        lines += [
            "",
            f"Correctness checks: {len(broken)} FAILED ("
            + "; ".join(f"{c['benchmark']}: {c['check']}" for c in broken)
            + f"), {len(held)} held.",
        ]
    elif held:
        lines += ["", f"Correctness checks: all {len(held)} held."]
    failed = [name for name, s in result["steps"].items() if not name.startswith("_") and s["rc"]]
    if failed:
        lines += ["", f"Failed in this run (no figures): {', '.join(failed)}."]
    missing = [name for name in PLAN if name not in result["steps"]]
    if missing:
        lines += ["", f"Not run at this scale in this run: {', '.join(missing)}."]
    return "\n".join(lines)


def write_doc(result: dict, doc: Path = DOC) -> None:
    """Replace this scale's block. After a partial run (`--only … --doc`) the rows of the
    benchmarks it did not run are kept from the block it replaces, under a note naming the
    run they came from, so one table holds the latest figure of every benchmark."""
    scale = result["scale"]
    block_start, block_end = f"<!-- bench:{scale}:start -->", f"<!-- bench:{scale}:end -->"
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(block_start) + r"\n(.*?)\n?" + re.escape(block_end), re.S)
    previous = pattern.search(text)
    body = table(result)
    if previous and any(name not in result["steps"] for name in PLAN):
        body = keep_earlier_rows(
            body, previous.group(1), {f["benchmark"] for f in result["figures"]}
        )
    block = f"{block_start}\n{body}\n{block_end}"
    if previous:
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.replace(END, f"{block}\n\n{END}")
    doc.write_text(text)


KEPT_NOTE = "Rows kept from an earlier run"


def keep_earlier_rows(body: str, earlier: str, measured: set[str]) -> str:
    """`body` (this run's table) plus the earlier block's rows of benchmarks this run did not
    measure, and a note naming the run they came from (each row also carries its date)."""
    lines = earlier.splitlines()
    rows = [
        line
        for line in lines
        if line.startswith("| ")
        and not line.startswith(("| benchmark |", "| --- |"))
        and line.split("|")[1].strip() not in measured
    ]
    if not rows:
        return body
    run = next((line for line in lines if line.startswith("`")), "").rstrip(".")
    notes = [f"{KEPT_NOTE} ({run})." if run else f"{KEPT_NOTE}."]
    notes += [line for line in lines if line.startswith(KEPT_NOTE) and line not in notes]
    out = [line for line in body.splitlines() if not line.startswith("Not run at this scale")]
    while out and not out[-1].strip():
        out.pop()
    table_end = max(i for i, line in enumerate(out) if line.startswith("| ")) + 1
    out[table_end:table_end] = rows
    kept = ", ".join(dict.fromkeys(row.split("|")[1].strip() for row in rows))
    return "\n".join([*out, "", f"Not measured in this run, rows kept: {kept}.", *notes])
