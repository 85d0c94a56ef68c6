"""POST /auth/login: exchange email and password for an access and a refresh token."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import LoginIn
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    tokens = identity_service().login(request.json_body(LoginIn), request.source_ip)
    return json_response(200, tokens, {"Cache-Control": "no-store"})
