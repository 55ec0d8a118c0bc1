"""One JSON error shape for the whole API:

{"error": {"code": "invalid", "message": "…", "fields": {"name": ["…"]}, "request_id": "…"}}

400 for invalid input, 409 for a valid request that conflicts with the current state
(`core.errors.Conflict`), the rest as DRF says (401, 403, 404, 429 …). `request_id` is the
request's id (core.request_id), as in the X-Request-ID header and every log line of the request.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Conflict
from .request_id import current_request_id


class ConflictError(exceptions.APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = gettext_lazy("This conflicts with the current state.")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return {"error": body}


def exception_handler(exc, context):
    fields = None
    if isinstance(exc, Conflict):
        fields, message = _messages(exc)
        exc = ConflictError(message or ConflictError.default_detail)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        from .parsers import PayloadTooLarge

        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # too many fields, a broken multipart body …
        exc = exceptions.ParseError(_("The request could not be read."))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _flatten(detail)
            message = fields.pop("non_field_errors", None)
            message = message[0] if message else _("The request has invalid fields.")
        else:
            items = detail if isinstance(detail, list) else [detail]
            fields, message = None, " ".join(str(m) for m in items)
        response.data = error_body("invalid", message, fields)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, exc.detail, fields)
    return response


def _messages(exc: DjangoValidationError) -> tuple[dict | None, str]:
    """(fields, message) of a Django ValidationError, as the error body shows them."""
    detail = as_serializer_error(exc)
    fields = _flatten(detail)
    general = fields.pop("non_field_errors", None)
    if general:
        return fields or None, " ".join(general)
    first = next(iter(fields.values()), [""])
    return fields or None, first[0]


def _flatten(detail, prefix: str = "") -> dict:
    """{"rules": [{"params": ["…"]}]} → {"rules.0.params": ["…"]}: one level, plain strings."""
    fields: dict = {}
    items = detail.items() if isinstance(detail, dict) else enumerate(detail)
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
        ):
            fields.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            if value:
                fields[name] = [str(m) for m in value]
        else:
            fields[name] = [str(value)]
    return fields


def api_not_found(request):
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def api_bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        from .limits import too_large_message

        return JsonResponse(error_body("too_large", too_large_message()), status=413)
    return JsonResponse(error_body("invalid", _("The request could not be read.")), status=400)


def api_server_error(request):
    return JsonResponse(
        error_body("server_error", _("Something went wrong on our side.")), status=500
    )
