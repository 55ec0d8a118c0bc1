"""Enumerate every URL pattern of the project with its full name and route."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, e.g. "api:audit-log-list"
    route: str  # e.g. "o/<slug:org_slug>/team/"
    kwargs: tuple[str, ...]  # converter names in the route
    default_kwargs: tuple[tuple[str, object], ...]
    callback: object

    @property
    def is_org_route(self) -> bool:
        return "org_slug" in self.kwargs

    @property
    def is_member_route(self) -> bool:
        """A member page, under /m/<org>/ (portal/)."""
        return self.route.startswith("m/<slug:org>/")

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/v1/")

    @property
    def object_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k != "org_slug")


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = f"{namespace}{entry.name}" if entry.name else f"{namespace}<unnamed {route}>"
            converters = {}
            for part in (resolver.pattern, entry.pattern):
                converters.update(getattr(part, "converters", {}))
            kwargs = tuple(_kwargs_in(route))
            yield Route(
                name=name,
                route=route,
                kwargs=kwargs,
                default_kwargs=tuple(sorted((entry.default_args or {}).items())),
                callback=entry.callback,
            )


def _kwargs_in(route: str):
    import re

    for match in re.finditer(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route):
        yield match.group(1) or match.group(2)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver()))
