"""POST/GET /courses/{id}/live-sessions (schedule, list) and DELETE
/courses/{id}/live-sessions/{sid} (cancel)."""

from edu.guards import limited_writer, optional_caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.live.models import LiveSessionIn
from edu.services import flush_outbox, live_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, course_id = live_service(), request.path_params["id"]
    if request.method == "POST":
        who = limited_writer(request, "write:courses")
        session = service.schedule(who, course_id, request.json_body(LiveSessionIn))
        flush_outbox()
        return json_response(201, session, {
            "Location": f"/courses/{course_id}/live-sessions/{session.id}"})
    if request.method == "DELETE":
        who = limited_writer(request, "write:courses")
        return json_response(200, service.cancel(who, course_id, request.path_params["sid"]))
    return json_response(200, service.list(course_id, optional_caller(request)))
