"""The API's JSON parser: DRF's, with the limits that keep hostile bodies from becoming 500s.

- A body over MAX_REQUEST_BYTES is 413 (also when no Content-Length announced it).
- Nesting deeper than MAX_JSON_DEPTH is 400. Python's decoder would otherwise recurse until a
  RecursionError (a 500) at ~1,000 levels, and anything below that depth would still reach
  serializers and JSON columns that recurse too.

Strings are passed on as decoded, NUL characters and lone surrogates (`"\\ud800"`) included:
the fields that receive them refuse them with a field error (DRF's CharField, the event
schema, which rejects that one event and keeps the rest of the batch).
"""

import codecs

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers
from rest_framework.parsers import get_encoding
from rest_framework.utils import json

from .limits import max_json_depth, max_request_bytes, too_large_message


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = _("The request is too large.")
    default_code = "too_large"


def check_depth(data, max_depth: int, too_deep: str = "too deep") -> None:
    """Refuse containers nested deeper than `max_depth`, without recursion."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth >= max_depth:
            raise exceptions.ParseError(too_deep)
        stack.extend((item, depth + 1) for item in value if isinstance(item, list | dict))


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        limit = max_request_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(too_large_message())
        max_depth = max_json_depth()
        too_deep = _("JSON is nested too deeply (at most %(n)s levels).") % {"n": max_depth}
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        except ValueError as exc:  # UnicodeDecodeError too
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        check_depth(data, max_depth, too_deep)
        return data
