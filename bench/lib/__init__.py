"""The benchmarks' shared harness.

- `env`: the environment of a bench process (database, Redis, settings) and Django set-up;
- `app`: every entry point of the application the benchmarks use, in one table;
- `db`: psycopg connections for set-based SQL, purging a dataset, VACUUM, row counts;
- `stack`: PostgreSQL and Redis up, gunicorn and a Celery worker started and stopped, memory;
- `results`: phases, latency summaries, the machine, JSON results;
- `plan`: the scales and each benchmark's arguments at each scale;
- `figures`: each benchmark's figures beside its raw baseline, and its correctness checks;
- `report`: the results table and its block in docs/performance.md;
- `profile`: one in-process request's queries, cProfile and EXPLAIN.

The data generators are in bench/datasets/; tests/bench/ checks their SQL against the models
and runs every benchmark at `--scale tiny`.
"""
