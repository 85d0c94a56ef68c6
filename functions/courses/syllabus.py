"""GET /courses/{id}/syllabus: sections and lessons in order."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, optional_caller


@endpoint
def handler(request: Request) -> LambdaResponse:
    return json_response(200, course_service().syllabus(request.path_params["id"],
                                                        optional_caller(request)))
