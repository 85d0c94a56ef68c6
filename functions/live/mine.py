"""GET /me/live-sessions: the upcoming live sessions of the courses the caller is enrolled in."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import enrolled_course_ids, live_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = caller(request)
    return json_response(200, live_service().mine(who, enrolled_course_ids(who.user_id)),
                         {"Cache-Control": "no-store"})
