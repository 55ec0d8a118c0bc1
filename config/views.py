"""Error pages: JSON in the API's error format under /api/, HTML elsewhere."""

from django.views import defaults

from core.api_errors import api_not_found, api_server_error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return api_server_error(request)
    return defaults.server_error(request)
