"""POST /courses: a verified teacher creates a draft course."""

from edu.courses.models import CourseIn
from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, etag, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = limited_writer(request, "write:courses")
    course = course_service().create(who, request.json_body(CourseIn))
    return json_response(201, course, {"Location": f"/courses/{course.id}",
                                       "ETag": etag(course.version)})
