"""DELETE /courses/{id}: archive (courses are never hard-deleted: students keep history)."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, flush_outbox, writer


@endpoint
def handler(request: Request) -> LambdaResponse:
    course = course_service().archive(writer(request, "write:courses"), request.path_params["id"])
    flush_outbox()
    return json_response(200, course)
