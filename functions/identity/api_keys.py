"""POST /teacher/api-keys (the key is in this answer only), GET /teacher/api-keys, and
DELETE /teacher/api-keys/{key_id} (revoke)."""

from edu.apikeys.models import ApiKeyIn
from edu.guards import caller, limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import api_key_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    service = api_key_service()
    if request.method == "POST":
        created = service.create(limited_writer(request), request.json_body(ApiKeyIn))
        return json_response(201, created, {"Location": f"/teacher/api-keys/{created.id}",
                                            "Cache-Control": "no-store"})
    if request.method == "DELETE":
        return json_response(200, service.revoke(limited_writer(request),
                                                 request.path_params["key_id"]))
    return json_response(200, service.list(caller(request)))
