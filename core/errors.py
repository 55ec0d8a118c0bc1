"""Errors services raise that the API answers with their own status.

`Conflict`: the request is valid but conflicts with the current state of what it touches: a
duplicate (another group already has this external id), an object already in another state (an
action already finished otherwise, a warning already revoked), a step out of order, nothing left
(out of stock, not enough points). The API answers 409 with code `conflict` (core.api_errors);
the dashboard shows it like any other ValidationError, which it is.
"""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    pass
