"""The benchmarks' datasets. The tenants, their people and groups go through the application's
services (bench.lib.app); the bulk (members, raw events, orders, history) is set-based SQL,
which tests/bench/test_synthetic_schema.py checks against the models.

- `synthetic`: the synthetic organization of a scale (dashboard under load, `make bench`);
- `metrics_group`, `metrics_events`: one large group for the metrics benchmark;
- `dormant`: members in five groups each for the dormant scan;
- `events`: the JSON events posted to `POST /api/v1/events/` by the ingestion benchmark.
"""
