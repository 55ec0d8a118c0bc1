"""Phases and their times, latency summaries, the machine, and a benchmark's JSON results."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .env import ROOT


class Phases:
    """Wall time of each phase, printed as it ends."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn, *args, **kwargs):
        print(f"[{name}] ...", flush=True)
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        print(f"[{name}] {self.seconds[name]:.1f} s", flush=True)
        return result


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarize(samples: list[float]) -> dict:
    """Latencies in seconds -> median, p95, min, max in milliseconds."""
    ordered = sorted(samples)
    return {
        "median_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * percentile(ordered, 0.95),
        "min_ms": 1000 * ordered[0],
        "max_ms": 1000 * ordered[-1],
        "n": len(ordered),
    }


def write_json(path: Path | None, data: dict) -> None:
    """A benchmark's `--json-out`: its key figures (make bench reads them)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def machine() -> dict:
    info = {"cores": os.cpu_count(), "load_average_at_start": list(os.getloadavg())}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        info["postgresql"] = out.stdout.strip().split(" ")[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    info["python"] = sys.version.split()[0]
    return info


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""
