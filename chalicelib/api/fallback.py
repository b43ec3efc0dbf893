"""Glance's answers where no view serves a request: a known path asked with another method
is 405 with `Allow`, in Glint's error shape (never Chalice's or API Gateway's bodies).

Unknown paths never reach the app: the local runtime answers them 404 itself
(glint_local/not_found.py) and a deployed stage through API Gateway's gateway response."""
from __future__ import annotations

from collections.abc import Callable

from chalice import Chalice, Response

from chalicelib.api.errors import error_response
from chalicelib.api.routing import has_trailing_slash, not_found

# The methods API Gateway and the local runtime hand to the app.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# How the 405 views are named (app.routes lists them beside the real ones).
VIEW_PREFIX = "method_not_allowed"


def install(app: Chalice) -> None:
    """Register a 405 view for every method a registered path does not serve (call after
    every blueprint is registered)."""
    for path, views in list(app.routes.items()):
        allowed = [m for m in METHODS if m in views]
        missing = [m for m in METHODS if m not in views]
        if not missing:
            continue
        # The path's own authorizer: an unauthenticated call is 401 first, as in Glance.
        authorizer = next(iter(views.values())).authorizer
        app.route(path, methods=missing, content_types=["*/*"], authorizer=authorizer,
                  name=f"{VIEW_PREFIX}{path.replace('/', '_')}")(_refusal(app, allowed))


def _refusal(app: Chalice, allowed: list[str]) -> Callable[..., Response]:
    def method_not_allowed(**_params: str) -> Response:
        if has_trailing_slash(app.current_request):
            return not_found()
        method = app.current_request.method
        return error_response(405, f"The method {method} is not allowed for this resource.",
                              {"Allow": ", ".join(allowed)})

    return method_not_allowed
