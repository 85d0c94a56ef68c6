"""GET /courses/{id}/syllabus: sections and lessons in order."""

from edu.guards import optional_caller
from edu.http import JsonText, LambdaResponse, Request, endpoint, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    return json_response(200, JsonText(course_service().syllabus_json(
        request.path_params["id"], optional_caller(request))))
