"""The OpenAPI schema of a member's data export (`GET /members/{id}/export/`), made from the
field lists `members.privacy.member_export` exports, so the two cannot drift apart: each
column's type comes from its model field."""

from __future__ import annotations

import copy
from functools import cache

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from members import hooks, privacy
from members.models import Member, Membership, MembershipChange
from tenancy.models import Organization

_TYPES = [
    (models.BooleanField, {"type": "boolean"}),
    (models.DateTimeField, {"type": "string", "format": "date-time"}),
    (models.DateField, {"type": "string", "format": "date"}),
    (models.DecimalField, {"type": "string", "format": "decimal"}),
    (models.UUIDField, {"type": "string", "format": "uuid"}),
    (models.JSONField, {}),  # lists (tags, flags, items) and objects (an event's payload)
    (models.ForeignKey, {"type": "integer"}),
    (models.AutoField, {"type": "integer"}),
    (models.BigAutoField, {"type": "integer"}),
    (models.IntegerField, {"type": "integer"}),
    (models.FloatField, {"type": "number"}),
    (models.CharField, {"type": "string"}),
    (models.TextField, {"type": "string"}),
]


def _field(model, path: str) -> models.Field:
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    for field in model._meta.concrete_fields:
        if last in (field.name, field.attname):
            return field
    return model._meta.get_field(last)


def column(model, path: str) -> dict:
    field = _field(model, path)
    schema = next((dict(s) for cls, s in _TYPES if isinstance(field, cls)), {"type": "string"})
    nullable = field.null or "__" in path  # a missing related row reads as null
    if nullable:
        schema["nullable"] = True
    return schema


def row(model, fields, **extra) -> dict:
    properties = {name: column(model, name) for name in fields}
    properties.update(extra)
    return {"type": "object", "properties": properties, "required": list(properties)}


def rows(model, fields, **extra) -> dict:
    return {"type": "array", "items": row(model, fields, **extra)}


def _other_apps_sections() -> dict:
    """The sections apps above members add (orders, care cases …), from their own hook
    functions, asked about a member that does not exist (their querysets are never run)."""
    org, member = Organization(pk=0), Member(pk=0, organization_id=0)
    return {
        section.key: rows(section.queryset.model, privacy.section_fields(section))
        for sections in hooks.privacy_sections(org=org, member=member)
        for section in sections
    }


@cache
def export_schema() -> dict:
    memberships = rows(
        Membership,
        privacy.MEMBERSHIP_FIELDS,
        history=rows(MembershipChange, privacy.HISTORY_FIELDS),
    )
    properties = {
        "format": {"type": "string", "enum": ["qunyun.member-export.v1"]},
        "exported_at": {"type": "string", "format": "date-time"},
        "organization": {"type": "string", "description": "The organization's slug."},
        "member": row(Member, privacy.MEMBER_FIELDS),
        "memberships": memberships,
        **{key: rows(model, fields) for key, (model, fields, _lookup) in privacy.SECTIONS.items()},
        **_other_apps_sections(),
    }
    return {
        "type": "object",
        "description": "Everything stored about the member, one list of rows per kind.",
        "properties": properties,
        "required": list(properties),
    }


class MemberExportSerializer(serializers.Serializer):
    """For the OpenAPI document only (`members.privacy.member_export` builds the data)."""

    class Meta:
        ref_name = "MemberExport"


class MemberExportSchema(OpenApiSerializerExtension):
    target_class = MemberExportSerializer

    def map_serializer(self, auto_schema, direction):
        # At generation time (every app's hooks are registered); a copy, as drf-spectacular's
        # enum hook rewrites what it is given.
        return copy.deepcopy(export_schema())
