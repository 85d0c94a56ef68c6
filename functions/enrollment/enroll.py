"""POST /courses/{id}/enroll: free courses at once (201); paid ones start a payment (202)."""

from edu.enrollment.models import EnrollmentOut
from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.observability import count
from edu.services import enrollment_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    course_id = request.path_params["id"]
    result = enrollment_service().enroll(limited_writer(request), course_id)
    if isinstance(result, EnrollmentOut):
        count("enrollments")
        return json_response(201, result, {"Location": f"/courses/{course_id}/progress"})
    count("payments_started")
    return json_response(202, result, {"Location": f"/me/payments#{result.payment_id}"})
