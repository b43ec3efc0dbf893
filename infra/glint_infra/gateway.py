"""API Gateway's own answers when its authorizer refuses a call, in Glint's error shape:
401 with the configured WWW-Authenticate challenge, and 503 when the identity service
cannot be reached (the authorizer failed), never API Gateway's default 500."""
from __future__ import annotations

import json

from aws_cdk import aws_apigateway as apigw
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.identity import challenge
from glint_infra.stage import Deployment


def gateway_responses(scope: Construct, app: Chalice, deployment: Deployment) -> None:
    """Declare the UNAUTHORIZED and AUTHORIZER_FAILURE responses of the stage's REST API."""
    api_id = app.get_resource("RestAPI").ref
    for response_type, status, title, headers in (
            ("UNAUTHORIZED", 401, "Unauthorized",
             {"gatewayresponse.header.WWW-Authenticate": _quoted(challenge(deployment.settings))}),
            ("AUTHORIZER_FAILURE", 503, "Service Unavailable", {})):
        body = {"error": {"code": status, "title": title, "message": "$context.error.messageString"}}
        apigw.CfnGatewayResponse(
            scope, f"GatewayResponse{title.replace(' ', '')}", rest_api_id=api_id,
            response_type=response_type, status_code=str(status), response_parameters=headers,
            # $context.error.messageString is already a quoted JSON string.
            response_templates={"application/json": json.dumps(body).replace(
                '"$context.error.messageString"', "$context.error.messageString")})


def _quoted(value: str) -> str:
    # Gateway-response header values are mapping expressions: literals go in single quotes.
    return "'" + value.replace("'", "") + "'"
