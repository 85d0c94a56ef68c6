"""GET /me/payments: the caller's receipts."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import enrollment_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    payments = enrollment_service().my_payments(caller(request))
    return json_response(200, {"items": [p.model_dump(mode="json") for p in payments],
                               "next_cursor": None})
