"""POST /auth/login: exchange email and password for an access and a refresh token (the
refresh token also as an HttpOnly session cookie, for browsers)."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import LoginIn
from edu.identity.session_cookie import refresh_cookie
from edu.services import identity_service, refresh_ttl_s


@endpoint
def handler(request: Request) -> LambdaResponse:
    tokens = identity_service().login(request.json_body(LoginIn), request.source_ip)
    response = json_response(200, tokens, {"Cache-Control": "no-store"})
    response["cookies"] = [refresh_cookie(tokens.refresh_token, refresh_ttl_s())]
    return response
