"""POST /auth/refresh: spend a refresh token (the body's, or the browser's session cookie)
for a new pair; reuse ends the family."""

from edu.errors import Unauthorized
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import RefreshIn
from edu.identity.session_cookie import REFRESH_COOKIE, refresh_cookie
from edu.services import identity_service, refresh_ttl_s


@endpoint
def handler(request: Request) -> LambdaResponse:
    body = request.json_body(RefreshIn) if request.raw_body else RefreshIn()
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise Unauthorized("Send a refresh token: in the body, or the session cookie.",
                           error="invalid_token")
    pair = identity_service().refresh(token)
    response = json_response(200, pair, {"Cache-Control": "no-store"})
    response["cookies"] = [refresh_cookie(pair.refresh_token, refresh_ttl_s())]
    return response
