"""The benchmarks' raw SQL against the models, so the bench cannot rot.

The data generators of bench/ write most rows with set-based SQL (`INSERT … SELECT`, COPY), not
through the ORM, so a column added to a model is not filled in by them until someone runs
`make bench` and meets a NOT NULL violation (as `care_case.reopen_count` did). This test reads
every SQL string literal of every Python file under bench/ (with `ast`, so implicitly
concatenated literals count as one), finds each `INSERT INTO <table> (<columns>)` and
`COPY <table> (<columns>) FROM`, and checks the column list against the model of that table:

- the table belongs to a model (a renamed table fails here, not in a benchmark);
- every column listed is a concrete column of that model;
- every NOT NULL column without a database default (`db_default`, a serial or identity
  primary key) is listed. Django's `default=` is applied by Python, not by the database, so
  such a column needs a value in the SQL.

The columns come from the models' `_meta`; the test on PostgreSQL also reads the migrated test
database (Django's introspection) so a column made NOT NULL by a migration counts too.
A statement whose table or column list is not a literal (an f-string, `sql.SQL` composition,
no column list) fails: write the list out so this test can check it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED

BENCH = Path(__file__).resolve().parents[2] / "bench"
PLACEHOLDER = "\x00"  # stands for an f-string's {expression}: never part of a readable list

# Anything that looks like a write: each must also be readable by WRITE below.
LOOKS_LIKE_WRITE = re.compile(r"\bINSERT\s+INTO\b|\bCOPY\s+\S+(\s*\([^)]*\))?\s+FROM\b", re.I)
WRITE = re.compile(
    r"\b(?P<kind>INSERT\s+INTO|COPY)\s+\"?(?P<table>\w+)\"?\s*"
    r"\((?P<columns>[^()\x00]*)\)",
    re.I,
)


@dataclass(frozen=True)
class Write:
    where: str  # bench-relative path:line of the string literal
    kind: str  # INSERT or COPY
    table: str | None  # None: not readable
    columns: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return f"{self.where} {self.kind} {self.table or '?'}"


def _in_fstring(tree: ast.AST) -> set[int]:
    """ids of the Constant parts of f-strings (seen through their JoinedStr instead)."""
    return {
        id(v)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for v in node.values
        if isinstance(v, ast.Constant)
    }


def bench_writes() -> list[Write]:
    found = []
    for path in sorted(BENCH.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        parts = _in_fstring(tree)
        for node in ast.walk(tree):
            if id(node) in parts:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                line, text = node.lineno, node.value
            elif isinstance(node, ast.JoinedStr):
                line = node.lineno
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values
                )
            else:
                continue
            where = f"{path.relative_to(BENCH.parent)}:{line}"
            readable = {m.start(): m for m in WRITE.finditer(text)}
            for match in LOOKS_LIKE_WRITE.finditer(text):
                kind = "COPY" if match.group(0).upper().startswith("COPY") else "INSERT"
                m = readable.get(match.start())
                if (
                    kind == "COPY"
                    and m is not None
                    and not re.match(r"\s*FROM\b", text[m.end() :], re.I)
                ):
                    m = None
                if m is None:
                    found.append(Write(where, kind, None, (), text[match.start() :][:120]))
                    continue
                columns = tuple(c.strip().strip('"') for c in m.group("columns").split(","))
                found.append(Write(where, kind, m.group("table"), columns, m.group(0)))
    return found


WRITES = bench_writes()


def _model_for(table: str):
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None


def _has_database_default(field: models.Field) -> bool:
    if field.db_default is not NOT_PROVIDED:
        return True
    if field.primary_key and isinstance(field, models.AutoField | models.BigAutoField):
        return True  # serial / identity
    return isinstance(field, models.GeneratedField)


def required_columns(model) -> set[str]:
    """NOT NULL columns that the database does not fill in by itself."""
    return {
        f.column for f in model._meta.concrete_fields if not f.null and not _has_database_default(f)
    }


def test_the_scan_sees_the_generators():
    """The scan itself works: the synthetic organization's writes and the ingestion COPY are
    among those found (if this fails, the scan lost sight of the SQL, not the other way)."""
    tables = {w.table for w in WRITES}
    assert {"members_member", "members_rawevent", "care_case"} <= tables
    assert any(w.kind == "COPY" for w in WRITES)


@pytest.mark.parametrize("write", WRITES, ids=str)
def test_raw_sql_fills_every_required_column(write: Write):
    assert write.table, (
        f"{write.where}: cannot read the table and column list of {write.text!r}; write them "
        "out literally so this test can check them against the model"
    )
    model = _model_for(write.table)
    assert model is not None, f"{write.where}: no model has the table {write.table!r}"
    concrete = {f.column for f in model._meta.concrete_fields}
    unknown = [c for c in write.columns if c not in concrete]
    assert not unknown, f"{write.where}: {write.table} has no column {', '.join(unknown)}"
    missing = sorted(required_columns(model) - set(write.columns))
    assert not missing, (
        f"{write.where}: {write.kind} into {write.table} leaves out {', '.join(missing)} "
        f"(NOT NULL, no database default in {model.__name__}); give it a value in the SQL"
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_raw_sql_matches_the_migrated_database():
    """The same, with the NOT NULL columns and defaults read from the migrated test database."""
    problems = []
    with connection.cursor() as cursor:
        described = {}
        for write in WRITES:
            if not write.table:
                continue  # reported by the test above
            if write.table not in described:
                described[write.table] = connection.introspection.get_table_description(
                    cursor, write.table
                )
            info = described[write.table]
            if not info:
                problems.append(f"{write.where}: no table {write.table} in the database")
                continue
            required = {
                c.name
                for c in info
                if not c.null_ok and c.default is None and not getattr(c, "is_autofield", False)
            }
            missing = sorted(required - set(write.columns))
            if missing:
                problems.append(f"{write}: leaves out {', '.join(missing)}")
    assert not problems, "\n".join(problems)
