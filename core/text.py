"""Free text people type (a note, a reply, an idea), checked in one place."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_text(value, field: str, *, limit: int, required: bool = False) -> str:
    """`value` stripped; a ValidationError on `field` when it is required and blank, longer
    than `limit` characters, or holds a NUL character."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("Use at most %(n)s characters.") % {"n": limit}]})
    if "\x00" in value:
        raise ValidationError({field: [_("Null characters are not allowed.")]})
    return value
