"""POST /courses/{id}/publish and /unpublish."""

from edu.courses.service import etag
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, flush_outbox, writer


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, course_id = course_service(), request.path_params["id"]
    who = writer(request, "write:courses")
    if request.path.endswith("/unpublish"):
        course = service.unpublish(who, course_id)
    else:
        course = service.publish(who, course_id)
    flush_outbox()
    return json_response(200, course, {"ETag": etag(course)})
