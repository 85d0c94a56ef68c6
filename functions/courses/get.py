"""GET /courses/{id}: a published course, or a draft for its teacher."""

from edu.courses.service import etag
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, optional_caller


@endpoint
def handler(request: Request) -> LambdaResponse:
    course = course_service().get(request.path_params["id"], optional_caller(request))
    return json_response(200, course, {"ETag": etag(course)})
