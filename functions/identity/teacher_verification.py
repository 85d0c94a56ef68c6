"""POST /teachers/me/verification: a teacher asks to be verified (bio + link)."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import VerificationIn
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    user = identity_service().submit_verification(caller(request).user_id,
                                                  request.json_body(VerificationIn))
    return json_response(202, user)
