"""GET /teacher/courses/{id}/analytics?from=&to=&granularity=day|week (owner only)."""

from edu.analytics.models import AnalyticsQuery
from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import analytics_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = caller(request, "read:analytics")
    return json_response(200, analytics_service().course_analytics(
        who, request.path_params["id"], request.query_params(AnalyticsQuery)))
