"""POST /courses/{id}/publish and /unpublish."""

from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, etag, json_response
from edu.services import course_service, flush_outbox


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, course_id = course_service(), request.path_params["id"]
    who = limited_writer(request, "write:courses")
    if request.path.endswith("/unpublish"):
        course = service.unpublish(who, course_id)
    else:
        course = service.publish(who, course_id)
    flush_outbox()
    return json_response(200, course, {"ETag": etag(course.version)})
