"""GET /courses (the catalog) and GET /teachers/{id}/courses: keyset-paginated lists."""

from edu.courses.models import CatalogQuery
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, optional_caller


@endpoint
def handler(request: Request) -> LambdaResponse:
    params = dict(request.query)
    if "id" in request.path_params:  # /teachers/{id}/courses
        params["teacher_id"] = request.path_params["id"]
    query = request.query_model(CatalogQuery, params)
    return json_response(200, course_service().catalog(query, optional_caller(request)))
