"""Rule kinds, their parameters, the name-card validator, and the text a bot posts.

A rule set is a list of {"kind": <kind>, "params": {...}}; `clean_rules` validates and
normalises one, raising ValidationError with translated messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from integrations.composer import MessageKind, compose

RULE_KINDS = {
    "no_ads": gettext_lazy("No ads"),
    "no_flood": gettext_lazy("No flooding"),
    "name_card": gettext_lazy("Name card format"),
    "no_personal_attacks": gettext_lazy("No personal attacks"),
    "custom": gettext_lazy("Custom rule"),
}

NAME_CARD_SAMPLES = {
    "city": "西安",
    "region": "华东",
    "name": "小王",
    "nickname": "小王",
    "product": "白藜芦醇",
    "baby_age": "6个月",
    "age": "30",
    "job": "会计",
    "industry": "餐饮",
}
# What each name-card field is called when the format is shown to members ("城市-名字-产品").
NAME_CARD_LABELS = {
    "city": gettext_lazy("city"),
    "region": gettext_lazy("region"),
    "name": pgettext_lazy("name card field", "name"),
    "nickname": gettext_lazy("nickname"),
    "product": gettext_lazy("product"),
    "baby_age": gettext_lazy("baby's age"),
    "age": gettext_lazy("age"),
    "job": gettext_lazy("job"),
    "industry": gettext_lazy("industry"),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_LIST_ITEMS = 50


@dataclass(frozen=True)
class NameCardFormat:
    """`{city}-{name}-{product}` compiled to a validator, with an example that passes it."""

    pattern: str
    fields: tuple[str, ...]
    regex: re.Pattern
    example: str

    def matches(self, name_card: str) -> bool:
        return bool(self.regex.fullmatch((name_card or "").strip()))

    def readable(self) -> str:
        """The format with each field named in the active language: 城市-名字-产品."""
        return _PLACEHOLDER.sub(
            lambda m: str(NAME_CARD_LABELS.get(m.group(1), m.group(1))), self.pattern
        )


def compile_name_card(fmt: str) -> NameCardFormat:
    fmt = fmt.strip() if isinstance(fmt, str) else ""
    if not fmt or len(fmt) > 100:
        raise ValidationError(_("Enter a name-card format of at most 100 characters."))
    fields = _PLACEHOLDER.findall(fmt)
    if not fields:
        raise ValidationError(_("A name-card format needs at least one field such as {city}."))
    literals = _PLACEHOLDER.split(fmt)[::2]  # text between the fields
    if any("{" in part or "}" in part for part in literals):
        raise ValidationError(_("Unbalanced braces: write fields as {city}, {name}, {product}."))
    if any(not part for part in literals[1:-1]):
        raise ValidationError(_("Put a separator such as “-” between two fields."))
    if len(set(fields)) != len(fields):
        raise ValidationError(_("Each field may appear only once."))
    separators = "".join(sorted(set("".join(literals)))) or "-"
    field_regex = "[^" + re.escape(separators) + r"\s]+"
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{field_regex})"
        for i, part in enumerate(_PLACEHOLDER.split(fmt))
    )
    example = _PLACEHOLDER.sub(lambda m: NAME_CARD_SAMPLES.get(m.group(1), m.group(1)), fmt)
    return NameCardFormat(
        pattern=fmt, fields=tuple(fields), regex=re.compile(regex), example=example
    )


def _clean_str_list(value, field: str, max_len: int = 100) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = re.split(r"[\n,，]+", value)
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise ValidationError(
            _("%(field)s: give a list of at most %(n)s entries.")
            % {"field": field, "n": MAX_LIST_ITEMS}
        )
    items = []
    for item in value:
        if not isinstance(item, str) or len(item.strip()) > max_len:
            raise ValidationError(_("%(field)s: each entry is a short text.") % {"field": field})
        _no_nul(item, field)
        if item.strip() and item.strip() not in items:
            items.append(item.strip())
    return items


def _clean_int(value, field: str, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(_("%(field)s must be a whole number.") % {"field": field}) from None
    if not low <= number <= high:
        raise ValidationError(
            _("%(field)s must be between %(low)s and %(high)s.")
            % {"field": field, "low": low, "high": high}
        )
    return number


def _no_nul(text: str, field: str) -> str:
    # PostgreSQL cannot store NUL characters in text or JSON.
    if "\x00" in text:
        raise ValidationError(_("%(field)s contains a null character.") % {"field": field})
    return text


def clean_rule(rule) -> dict:
    kind = rule.get("kind") if isinstance(rule, dict) else None
    if not isinstance(kind, str) or kind not in RULE_KINDS:
        raise ValidationError(_("Unknown rule kind; choose one of: %s.") % ", ".join(RULE_KINDS))
    params = rule.get("params") or {}
    if not isinstance(params, dict):
        raise ValidationError(_("Rule parameters must be an object."))
    if kind == "no_ads":
        return {
            "kind": kind,
            "params": {
                "allowed_domains": [
                    d.lower()
                    for d in _clean_str_list(params.get("allowed_domains"), _("Allowed links"))
                ],
                "keywords": _clean_str_list(params.get("keywords"), _("Keywords")),
                # a connector that can delete messages (Telegram) deletes the ad itself
                "delete_messages": bool(params.get("delete_messages", False)),
            },
        }
    if kind == "no_flood":
        return {
            "kind": kind,
            "params": {
                "max_consecutive": _clean_int(
                    params.get("max_consecutive"), _("Maximum consecutive messages"), 1, 100, 5
                ),
                "window_seconds": _clean_int(
                    params.get("window_seconds"), _("Window (seconds)"), 10, 86400, 60
                ),
            },
        }
    if kind == "name_card":
        compiled = compile_name_card(
            _no_nul(str(params.get("format") or ""), _("Name-card format"))
        )
        return {"kind": kind, "params": {"format": compiled.pattern}}
    if kind == "custom":
        text = _no_nul(str(params.get("text") or "").strip(), _("Rule text"))
        if not text or len(text) > 500:
            raise ValidationError(_("A custom rule needs a text of at most 500 characters."))
        return {"kind": kind, "params": {"text": text}}
    return {"kind": kind, "params": {}}


def clean_rules(rules) -> list[dict]:
    if not isinstance(rules, list):
        raise ValidationError({"rules": [_("Rules must be a list.")]})
    if len(rules) > 30:
        raise ValidationError({"rules": [_("At most 30 rules per group.")]})
    cleaned, errors = [], []
    for index, rule in enumerate(rules, start=1):
        try:
            cleaned.append(clean_rule(rule))
        except ValidationError as exc:
            errors += [_("Rule %(n)s: %(error)s") % {"n": index, "error": m} for m in exc.messages]
    if errors:
        raise ValidationError({"rules": errors})
    return cleaned


def rules_context(rules_obj) -> dict:
    """What the composer needs to write out the intro and rules (a name-card rule carries an
    example that passes it)."""
    rules = []
    for rule in rules_obj.rules:
        if rule["kind"] == "name_card":
            compiled = compile_name_card(rule["params"]["format"])
            params = {**rule["params"], "format": compiled.readable(), "example": compiled.example}
            rule = {**rule, "params": params}
        rules.append(rule)
    return {
        "community": rules_obj.community.name,
        "intro": [rules_obj.intro_who, rules_obj.intro_why, rules_obj.intro_runs],
        "rules": rules,
        "warnings_before_removal": rules_obj.warnings_before_removal,
    }


def render_text(rules_obj, language: str) -> str:
    """The intro and rules as plain text, ready for a bot to post."""
    with translation.override(language):  # the name-card fields are named in that language
        context = rules_context(rules_obj)
    return compose(MessageKind.RULES, context, language=language)


def clean_auto_replies(replies) -> list[dict]:
    """[{"keyword": "1", "reply": "…"}]: exact-match keywords, each answered with a text."""
    if replies in (None, ""):
        return []
    if not isinstance(replies, list) or len(replies) > 30:
        raise ValidationError({"auto_replies": [_("Give at most 30 keyword replies.")]})
    cleaned, seen = [], set()
    for item in replies:
        keyword = item.get("keyword") if isinstance(item, dict) else None
        reply = item.get("reply") if isinstance(item, dict) else None
        if not isinstance(keyword, str) or not isinstance(reply, str):
            raise ValidationError({"auto_replies": [_("Each reply needs a keyword and a text.")]})
        keyword, reply = keyword.strip(), reply.strip()
        if not keyword or len(keyword) > 50 or not reply or len(reply) > 1000:
            raise ValidationError(
                {"auto_replies": [_("Keywords have 1–50 characters, replies 1–1000.")]}
            )
        if "\x00" in keyword + reply:
            raise ValidationError({"auto_replies": [_("Null characters are not allowed.")]})
        if keyword not in seen:
            seen.add(keyword)
            cleaned.append({"keyword": keyword, "reply": reply})
    return cleaned
