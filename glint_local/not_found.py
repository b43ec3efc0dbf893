"""Glance's 404 for a path no route serves, where Chalice's local gateway would answer API
Gateway's 403 "Missing Authentication Token" (deployed stages map that gateway response to
the same 404). Clients such as `openstack image add project` read that 403 as an answer."""
from __future__ import annotations

from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGatewayException

from chalicelib.api.routing import not_found

# Chalice's local gateway marks its no-route answer with this error type.
_NO_ROUTE = "UnauthorizedException"


class NotFoundMixin(ChaliceRequestHandler):
    """Answers unknown paths as Glance does; mix in before ChaliceRequestHandler."""

    def _send_error_response(self, error: LocalGatewayException) -> None:
        if isinstance(error, ForbiddenError) and \
                error.headers.get("x-amzn-ErrorType") == _NO_ROUTE:
            response = not_found()
            self._send_http_response(404, dict(response.headers), response.body)
            return
        super()._send_error_response(error)
