"""GET /courses (the catalog), GET /teachers/{id}/courses, and GET /teacher/courses (the
caller's own courses, drafts included; API keys with read:courses): keyset-paginated."""

from edu.courses.models import CatalogQuery
from edu.guards import caller, optional_caller
from edu.http import JsonText, LambdaResponse, Request, endpoint, json_response
from edu.services import course_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    params = dict(request.query)
    if request.path == "/teacher/courses":
        who = caller(request, "read:courses")
        params["teacher_id"] = who.user_id
        query = request.query_model(CatalogQuery, params)
        return json_response(200, JsonText(course_service().catalog_json(query, who)))
    if "id" in request.path_params:  # /teachers/{id}/courses
        params["teacher_id"] = request.path_params["id"]
    query = request.query_model(CatalogQuery, params)
    page = course_service().catalog_json(query, optional_caller(request))
    return json_response(200, JsonText(page))
