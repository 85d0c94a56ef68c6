"""POST /admin/teachers/{id}/verify and /reject: an administrator decides."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import VerificationDecisionIn
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = caller(request)
    body = request.json_body(VerificationDecisionIn) if request.raw_body \
        else VerificationDecisionIn()
    user = identity_service().decide_verification(
        who.role, request.path_params.get("id", ""), approve=request.path.endswith("/verify"),
        reason=body.reason)
    return json_response(200, user)
