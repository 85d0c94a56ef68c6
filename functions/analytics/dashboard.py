"""GET /teacher/dashboard: a verified teacher's totals across their courses."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import analytics_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    return json_response(200, analytics_service().dashboard(caller(request, "read:analytics")))
