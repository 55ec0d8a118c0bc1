"""Error pages: JSON in the API's error format under /api/, HTML elsewhere."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from core.api_errors import api_bad_request, api_not_found, api_server_error
from core.limits import too_large_message
from core.middleware import refusal


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler400(request, exception=None):
    if _is_api(request):
        return api_bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return refusal(request, 413, "too_large", too_large_message())
    return defaults.bad_request(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return api_server_error(request)
    return defaults.server_error(request)
