"""GET /courses/{id}/progress and PUT /courses/{id}/lessons/{lesson_id}/progress."""

from edu.enrollment.models import ProgressIn
from edu.guards import caller, limit_writes
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import enrollment_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, who, course_id = enrollment_service(), caller(request), request.path_params["id"]
    if request.method == "PUT":
        limit_writes(who)
        return json_response(200, service.put_progress(
            who, course_id, request.path_params["lesson_id"], request.json_body(ProgressIn)))
    return json_response(200, service.get_progress(who, course_id))
