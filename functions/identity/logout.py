"""POST /auth/logout: end the caller's current sign-in (its refresh-token family) and clear
the browser's session cookie."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import LogoutIn
from edu.identity.session_cookie import REFRESH_COOKIE, cleared_refresh_cookie
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = caller(request)
    body = request.json_body(LogoutIn) if request.raw_body else LogoutIn()
    identity_service().logout(who.user_id, who.session_id,
                              body.refresh_token or request.cookies.get(REFRESH_COOKIE))
    response = json_response(204, None)
    response["cookies"] = [cleared_refresh_cookie()]
    return response
