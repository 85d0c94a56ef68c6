"""POST /courses/{id}/sections (add) and PUT /courses/{id}/sections/order (reorder)."""

from edu.courses.models import OrderIn, SectionIn
from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, course_id = course_service(), request.path_params["id"]
    who = limited_writer(request, "write:courses")
    if request.method == "PUT":
        order = request.json_body(OrderIn)
        return json_response(200, service.reorder_sections(who, course_id, order.ids))
    section = service.add_section(who, course_id, request.json_body(SectionIn))
    return json_response(201, section, {"Location": f"/courses/{course_id}/syllabus"})
