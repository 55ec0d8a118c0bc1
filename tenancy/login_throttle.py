"""django-axes reads the attempted login from here: the email, trimmed and lower-cased, so
"Boss@Example.com " and "boss@example.com" share one failure counter."""


def axes_username(request, credentials):
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return raw.strip().lower()
