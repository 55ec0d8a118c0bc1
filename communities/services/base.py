"""Helpers every communities service uses: tags, validating a model before saving it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_TAGS = 20


def clean_tags(tags) -> list[str]:
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = tags.replace("，", ",").split(",")
    if not isinstance(tags, list | tuple):
        raise ValidationError({"tags": [_("Give tags as a list of short texts.")]})
    cleaned = []
    for tag in tags:
        tag = str(tag).strip()
        if len(tag) > 30:
            raise ValidationError({"tags": [_("A tag has at most 30 characters.")]})
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": [_("At most %(n)s tags.") % {"n": MAX_TAGS}]})
    return cleaned


def apply_or_restore(instance, values: dict, validate) -> dict:
    """Set `values` on `instance` and run `validate()`; on a ValidationError put the old values
    back (the caller's object stays as it was) and re-raise. Returns the old values."""
    before = {key: getattr(instance, key) for key in values}
    for key, value in values.items():
        setattr(instance, key, value)
    try:
        validate()
    except ValidationError:
        for key, value in before.items():
            setattr(instance, key, value)
        raise
    return before


def full_clean(instance, exclude=()):
    """Model validation with our own unique-constraint check (a friendlier message)."""
    instance.full_clean(exclude=["organization", *exclude], validate_constraints=False)


def plain(value):
    if hasattr(value, "pk"):
        return value.pk
    return value
