"""GET /courses/{id}: a published course, or a draft for its teacher."""

from edu.guards import optional_caller
from edu.http import LambdaResponse, Request, endpoint, etag, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    course = course_service().get(request.path_params["id"], optional_caller(request))
    return json_response(200, course, {"ETag": etag(course.version)})
