"""Requests refused before any view runs and before any query: one place for input that no
route can use.

- A body larger than MAX_REQUEST_BYTES (by its Content-Length) is 413.
- A NUL character in the path or in any query parameter (name or value) is 400: PostgreSQL text
  cannot hold it, and no filter, search or id ever needs it. Because this runs first, a filter
  value cannot reach SQL, and a CSV export cannot start streaming, with one in it.

Under /api/ the answer is the API's JSON error format; elsewhere a short page.
"""

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .limits import max_request_bytes, too_large_message

NUL = "\x00"


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def refusal(request, status: int, code: str, message: str, fields: dict | None = None):
    """The API's JSON error under /api/, a minimal page elsewhere (it renders without the
    session or the user, which later middleware would provide)."""
    if is_api(request):
        from .api_errors import error_body

        return JsonResponse(error_body(code, message, fields), status=status)
    page = render_to_string("400.html", {"status": status, "message": message})
    return HttpResponse(page, status=status)


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem is None:
            return self.get_response(request)
        # this runs before LocaleMiddleware: answer in the language the client asks for
        with translation.override(translation.get_language_from_request(request)):
            return self.refuse(request, *problem)

    def problem(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_request_bytes():
            return ("too_large", [])
        if NUL in request.path_info:
            return ("nul_in_path", [])
        bad = sorted(
            {
                (key.replace(NUL, "\\0") or "?")[:50]
                for key, values in request.GET.lists()
                if NUL in key or any(NUL in value for value in values)
            }
        )
        return ("nul_in_query", bad) if bad else None

    def refuse(self, request, kind, names):
        if kind == "too_large":
            return refusal(request, 413, "too_large", too_large_message())
        if kind == "nul_in_path":
            return refusal(request, 400, "invalid", _("The address contains a NUL character."))
        message = _("Remove the NUL character from the query parameters.")
        return refusal(request, 400, "invalid", message, {name: [message] for name in names})
