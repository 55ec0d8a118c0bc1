"""`/api/schema/`: the OpenAPI document (core.api_schema says how it is made)."""

from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

SCHEMA_LANGUAGE = "en"


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, always in English (no `lang`): a generated client must not get
    class and enum names in the language of whoever downloaded the schema."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        with translation.override(SCHEMA_LANGUAGE):
            return self._get_schema_response(request)
