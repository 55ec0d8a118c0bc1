"""The synthetic organization of a scale (bench/datasets/synthetic), generated or reused.

    uv run python bench/synthetic.py --scale small      # 20 groups, 10,000 members, 500,000 events
    uv run python bench/synthetic.py --scale default    # 200 groups, 100,000 members, 10,000,000
    uv run python bench/synthetic.py --scale small --fresh

In the bench database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/qunyun_bench,
created and migrated if missing). Prints the phases' times and the rows; with `--json-out`,
writes them as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python bench/synthetic.py`: import from the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import time
from dataclasses import asdict

from bench.lib import env, results
from bench.lib.plan import SCALES


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--fresh", action="store_true", help="generate again even if present")
    parser.add_argument("--json-out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    started = time.perf_counter()
    env.setup_django()
    from bench.datasets import synthetic

    phases = results.Phases()
    dataset = synthetic.ensure(scale, fresh=args.fresh, phases=phases)
    counts = synthetic.row_counts(dataset.org_id)
    wall = time.perf_counter() - started
    print(f"\norganization {dataset.slug} (id {dataset.org_id}), scale {scale.name}")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(
        f"  {len(dataset.users)} logins (password {dataset.password!r}), "
        f"e.g. {dataset.users[0]['email']}"
    )
    print(f"wall time {wall:.1f} s")
    results.write_json(
        args.json_out,
        {
            "scale": asdict(scale),
            "dataset": {k: v for k, v in asdict(dataset).items() if k != "password"},
            "rows": counts,
            "phases_s": phases.seconds,
            "wall_s": round(wall, 1),
        },
    )


if __name__ == "__main__":
    main()
