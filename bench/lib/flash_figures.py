"""The flash-sale benchmark's stock-gate figures and checks (bench/flash_sale.py writes them
beside its database-path round): the gate's round against the database path of the same run,
and a live-stock poll against a query."""

from __future__ import annotations

from .figures import check, figure, times


def gate_rows(d: dict) -> list[dict]:
    rows = []
    if gate := d.get("gate"):
        rows.append(
            figure(
                "flash sale",
                f"order attempts/s with the Redis stock gate, same clients and load "
                f"({gate['attempts']:,} attempts, {d['units']:,} units)",
                gate["api_attempts_per_s"],
                "attempts/s",
                "the same load through the database path alone (no gate)",
                d["api_attempts_per_s"],
                "attempts/s",
                times(1 / gate["api_attempts_per_s"], 1 / d["api_attempts_per_s"]),
                f"oversold units: {gate['oversold']} (must be 0)",
                gate["oversold"] == 0,
            )
        )
    if poll := d.get("poll"):
        rows.append(
            figure(
                "flash sale",
                f"live stock for a polling page: stock_gate.live_stock ({poll['polls']:,} "
                "polls, in-process)",
                poll["live_stock_us"],
                "µs",
                "SELECT stock_left of the sale, same process",
                poll["sql_us"],
                "µs",
                times(poll["live_stock_us"], poll["sql_us"]),
                f"database queries per poll: {poll['queries_per_poll']:g} (must be 0)",
                poll["queries_per_poll"] == 0,
            )
        )
    return rows


def gate_checks(d: dict) -> list[dict]:
    out = []
    if gate := d.get("gate"):
        out += [
            check("flash_sale", "with the stock gate: 0 oversold units", gate["oversold"] == 0),
            check(
                "flash_sale",
                "with the stock gate: as many orders as units (or attempts)",
                gate["orders_created"] == min(d["units"], gate["attempts"]),
            ),
        ]
    if poll := d.get("poll"):
        out.append(
            check(
                "flash_sale",
                "a live-stock poll makes no database query and agrees with stock_left",
                poll["queries_per_poll"] == 0 and poll["agrees"],
            )
        )
    return out
