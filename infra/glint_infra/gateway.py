"""API Gateway's own answers, in Glint's error shape: 401 with the configured WWW-Authenticate
challenge when its authorizer refuses a call, 503 when the identity service cannot be
reached (the authorizer failed), never API Gateway's default 500, and Glance's 404 for a
path no route serves."""
from __future__ import annotations

import json

from aws_cdk import aws_apigateway as apigw
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.identity import challenge
from glint_infra.stage import Deployment


def gateway_responses(scope: Construct, app: Chalice, deployment: Deployment) -> None:
    """Declare the UNAUTHORIZED, AUTHORIZER_FAILURE and MISSING_AUTHENTICATION_TOKEN
    responses of the stage's REST API."""
    api_id = app.get_resource("RestAPI").ref
    # $context.error.messageString is already a quoted JSON string.
    gateway_message = "$context.error.messageString"
    for response_type, status, title, headers, message in (
            ("UNAUTHORIZED", 401, "Unauthorized",
             {"gatewayresponse.header.WWW-Authenticate": _quoted(challenge(deployment.settings))},
             gateway_message),
            ("AUTHORIZER_FAILURE", 503, "Service Unavailable", {}, gateway_message),
            # A path no route serves (a method a route lacks reaches the app's 405): Glance's
            # 404, not API Gateway's 403, which clients read as a credentials problem.
            ("MISSING_AUTHENTICATION_TOKEN", 404, "Not Found", {},
             json.dumps("The resource could not be found."))):
        body = {"error": {"code": status, "title": title, "message": "MESSAGE"}}
        apigw.CfnGatewayResponse(
            scope, f"GatewayResponse{title.replace(' ', '')}", rest_api_id=api_id,
            response_type=response_type, status_code=str(status), response_parameters=headers,
            response_templates={"application/json": json.dumps(body).replace('"MESSAGE"',
                                                                             message)})


def _quoted(value: str) -> str:
    # Gateway-response header values are mapping expressions: literals go in single quotes.
    return "'" + value.replace("'", "") + "'"
