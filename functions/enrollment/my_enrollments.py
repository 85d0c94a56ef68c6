"""GET /me/enrollments: the caller's courses with progress, keyset-paginated."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.pagination import PageParams
from edu.services import enrollment_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    page = request.query_params(PageParams)
    return json_response(200, enrollment_service().my_enrollments(
        caller(request), page.limit, page.cursor))
