"""POST /auth/refresh: spend a refresh token for a new pair (reuse ends the family)."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import RefreshIn
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    body = request.json_body(RefreshIn)
    return json_response(200, identity_service().refresh(body.refresh_token),
                         {"Cache-Control": "no-store"})
