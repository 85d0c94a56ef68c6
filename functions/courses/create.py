"""POST /courses: a verified teacher creates a draft course."""

from edu.courses.models import CourseIn
from edu.courses.service import etag
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, writer


@endpoint
def handler(request: Request) -> LambdaResponse:
    course = course_service().create(writer(request, "write:courses"), request.json_body(CourseIn))
    return json_response(201, course, {"Location": f"/courses/{course.id}",
                                       "ETag": etag(course)})
