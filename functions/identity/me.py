"""GET /me: the signed-in user's profile."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    return json_response(200, identity_service().me(caller(request).user_id))
