"""POST /auth/logout: end the caller's current sign-in (its refresh-token family)."""

from edu.auth.claims import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import LogoutIn
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = caller(request)
    body = request.json_body(LogoutIn) if request.raw_body else LogoutIn()
    identity_service().logout(who.user_id, who.session_id, body.refresh_token)
    return json_response(204, None)
