"""POST /courses/{id}/sections/{sid}/lessons (add) and PUT .../lessons/order (reorder)."""

from edu.courses.models import LessonIn, OrderIn
from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, who = course_service(), limited_writer(request, "write:courses")
    course_id, section_id = request.path_params["id"], request.path_params["sid"]
    if request.method == "PUT":
        order = request.json_body(OrderIn)
        return json_response(200, service.reorder_lessons(who, course_id, section_id,
                                                          order.ids))
    lesson = service.add_lesson(who, course_id, section_id, request.json_body(LessonIn))
    return json_response(201, lesson, {"Location": f"/courses/{course_id}/syllabus"})
