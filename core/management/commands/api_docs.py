"""Write the parts of docs/*.md that the OpenAPI document already says: between

    <!-- api-docs: endpoints Members, Moderation -->   … <!-- /api-docs -->
    <!-- api-docs: union Event -->                      … <!-- /api-docs -->
    <!-- api-docs: union Action payload -->             … <!-- /api-docs -->

`manage.py api_docs` rewrites them; `--check` fails when a doc is out of date (a test runs it).
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

MARKER = re.compile(
    r"(<!-- api-docs: (?P<what>[^>]*?) -->\n)(?P<body>.*?)(<!-- /api-docs -->)", re.S
)
COMMON_EVENT_FIELDS = {"id", "type", "occurred_at", "platform", "community", "user"}
NAMES = {"display_name", "name_card"}
ADDRESS = {"community_external_id", "platform", "user_external_id", "display_name"}


def openapi_schema() -> dict:
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(prop: dict, schemas: dict) -> str:
    if "$ref" in prop:
        target = schemas[_ref_name(prop["$ref"])]
        return _type(target, schemas) if "enum" in target else _ref_name(prop["$ref"])
    if "allOf" in prop:
        return _type(prop["allOf"][0], schemas)
    if "oneOf" in prop:
        return " or ".join(_type(option, schemas) for option in prop["oneOf"])
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" if v != "" else '`""`' for v in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), schemas)}"
    if prop.get("format") in ("date-time", "decimal", "date"):
        return {"date-time": "date-time", "decimal": "decimal", "date": "date"}[prop["format"]]
    return kind


def _fields(component: dict, schemas: dict, skip=()) -> str:
    required = set(component.get("required", []))
    parts = []
    for name, prop in component.get("properties", {}).items():
        if name in skip:
            continue
        text = f"`{name}` ({_type(prop, schemas)}"
        if name not in required:
            text += ", optional"
        if prop.get("nullable"):
            text += ", may be null"
        if prop.get("deprecated"):
            text += ", deprecated"
        text += ")"
        description = (prop.get("description") or "").strip().rstrip(".")
        if description:
            text += f": {description}"
        parts.append(text)
    return "; ".join(parts) or "—"


def endpoints(schema: dict, tags: list[str]) -> str:
    rows = ["| operation | what it does |", "| --- | --- |"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if set(operation.get("tags", [])) & set(tags):
                rows.append(f"| `{method.upper()} {path}` | {operation.get('summary', '')} |")
    return "\n".join(rows)


def union(schema: dict, name: str, part: str | None) -> str:
    schemas = schema["components"]["schemas"]
    top = schemas[name]
    key = top["discriminator"]["propertyName"]
    if not part:
        rows = [f"| `{key}` | fields |", "| --- | --- |"]
        for value, ref in top["discriminator"]["mapping"].items():
            component = schemas[_ref_name(ref)]
            rows.append(
                f"| `{value}` | {_fields(component, schemas, COMMON_EVENT_FIELDS | NAMES)} |"
            )
        return "\n".join(rows)
    rows = [f"| `{key}` | for | what the bot does | more fields |", "| --- | --- | --- | --- |"]
    for value, ref in top["discriminator"]["mapping"].items():
        component = schemas[_ref_name(schemas[_ref_name(ref)]["properties"][part]["$ref"])]
        required = set(component.get("required", []))
        to = "a member" if "user_external_id" in component["properties"] else "the group"
        if to == "a member" and "community_external_id" in required:
            to = "a member, in the group"
        what = " ".join((component.get("description") or "").split())
        rows.append(f"| `{value}` | {to} | {what} | {_fields(component, schemas, ADDRESS)} |")
    return "\n".join(rows)


def render(what: str, schema: dict) -> str:
    kind, _, rest = what.partition(" ")
    if kind == "endpoints":
        return endpoints(schema, [t.strip() for t in rest.split(",")])
    if kind == "union":
        name, _, part = rest.partition(" ")
        return union(schema, name, part or None)
    raise CommandError(f"unknown api-docs section: {what!r}")


def rewrite(text: str, schema: dict) -> str:
    return MARKER.sub(
        lambda m: f"{m.group(1)}{render(m.group('what'), schema)}\n{m.group(4)}", text
    )


def doc_paths() -> list[Path]:
    return sorted((Path(settings.BASE_DIR) / "docs").glob("*.md"))


class Command(BaseCommand):
    help = "Write the API reference parts of docs/*.md from the OpenAPI document."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if a doc is stale.")

    def handle(self, *args, check=False, **options):
        schema = openapi_schema()
        stale = []
        for path in doc_paths():
            text = path.read_text(encoding="utf-8")
            new = rewrite(text, schema)
            if new != text:
                stale.append(path.name)
                if not check:
                    path.write_text(new, encoding="utf-8")
        if check and stale:
            raise CommandError(f"out of date, run `manage.py api_docs`: {', '.join(stale)}")
        self.stdout.write(("stale: " if check else "written: ") + (", ".join(stale) or "none"))
