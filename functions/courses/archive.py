"""DELETE /courses/{id}: archive (courses are never hard-deleted: students keep history)."""

from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, flush_outbox


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = limited_writer(request, "write:courses")
    course = course_service().archive(who, request.path_params["id"])
    flush_outbox()
    return json_response(200, course)
