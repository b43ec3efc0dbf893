"""Per-project quotas for admins (a Glint extension; see docs/quotas.md)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.routing import json_body, json_response, query_params, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import quotas as service

bp = Blueprint(__name__)
PATH = "/v2/quotas/{project_id}"


@route(bp, PATH)
def show_quotas(ctx: RequestContext, project_id: str) -> Response:
    """The project's usage against its limits, and the limits set for it alone."""
    return json_response(_render(service.show_quotas(ctx, project_id)))


@route(bp, PATH, methods=("PUT",))
def set_quotas(ctx: RequestContext, project_id: str) -> Response:
    """Set (or with null clear) some of the project's limits; answers as GET does."""
    return json_response(_render(service.set_quotas(ctx, project_id, json_body(bp))))


@route(bp, PATH + "/recount", methods=("POST",))
def recount_usage(ctx: RequestContext, project_id: str) -> Response:
    """Recount the project's usage from its image records and repair the counters (with
    `?repair=false`, only report the drift)."""
    repair = query_params(bp).get("repair", "true").lower() != "false"
    found = service.recount(ctx, project_id, repair=repair)
    return json_response({"project_id": found.project_id, "counters": found.counted,
                          "recounted": found.recounted, "drift": found.drift,
                          "repaired": found.repaired})


def _render(project: service.ProjectQuotas) -> dict[str, Any]:
    # `usage` has /v2/info/usage's shape, so clients read both alike.
    return {"project_id": project.project_id,
            "usage": {name: {"limit": q.limit, "usage": q.usage}
                      for name, q in project.quotas.items()},
            "overrides": project.overrides}
