"""Query-string filters on API lists, strict: a parameter a list does not know is a 400 with the
parameter named, never silently ignored (`?external_id=` on a list without that filter would
otherwise return every row, and a bot would act on the wrong one).

A list knows its FilterSet's filters, the paginator's `cursor` and `page_size`, DRF's `format`,
and the names in the view's `extra_query_params` (those it reads itself, documented with
OpenApiParameter)."""

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

UNKNOWN = _("Unknown query parameter.")


def _filter_params(filterset_class) -> set[str]:
    names = set()
    for name, filter_ in (filterset_class.base_filters if filterset_class else {}).items():
        widget = filter_.field.widget
        suffixes = getattr(widget, "suffixes", None)
        names |= {f"{name}_{s}" if s else name for s in suffixes} if suffixes else {name}
    return names


def known_params(view, filterset_class=None) -> set[str]:
    names = _filter_params(filterset_class) | set(getattr(view, "extra_query_params", ()))
    names.add(api_settings.URL_FORMAT_OVERRIDE or "format")
    paginator = getattr(view, "paginator", None)
    for attr in ("cursor_query_param", "page_size_query_param", "page_query_param"):
        value = getattr(paginator, attr, None)
        if value:
            names.add(value)
    return names


def check_query_params(request, view, filterset_class=None) -> None:
    unknown = sorted(set(request.query_params) - known_params(view, filterset_class))
    if unknown:
        raise ValidationError({name[:50]: [UNKNOWN] for name in unknown[:10]})


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) == "list":
            check_query_params(request, view, self.get_filterset_class(view, queryset))
        return super().filter_queryset(request, queryset, view)
