"""GET /search?q=: ranked, typo-tolerant course search with highlights and filters."""

from edu.courses.models import SearchQuery
from edu.guards import limit_search
from edu.http import JsonText, LambdaResponse, Request, endpoint, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    limit_search(request)
    page = course_service().search_json(request.query_params(SearchQuery))
    return json_response(200, JsonText(page))
