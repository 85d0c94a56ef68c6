"""POST /auth/register: create a student or teacher account."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import RegisterIn
from edu.observability import count
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    user = identity_service().register(request.json_body(RegisterIn), request.source_ip)
    count("registrations")
    return json_response(201, user, {"Location": "/me"})
