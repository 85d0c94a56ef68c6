"""POST/GET /teacher/webhooks and PATCH/DELETE /teacher/webhooks/{id} (the signing secret is
in the creation answer only)."""

from edu.guards import caller, limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import webhook_service
from edu.webhooks.models import WebhookIn, WebhookPatch


@endpoint
def handler(request: Request) -> LambdaResponse:
    service = webhook_service()
    if request.method == "POST":
        created = service.create(limited_writer(request), request.json_body(WebhookIn))
        return json_response(201, created, {"Location": f"/teacher/webhooks/{created.id}",
                                            "Cache-Control": "no-store"})
    if request.method == "PATCH":
        return json_response(200, service.update(limited_writer(request), request.path_params["id"],
                                                 request.json_body(WebhookPatch)))
    if request.method == "DELETE":
        service.delete(limited_writer(request), request.path_params["id"])
        return json_response(204, None)
    return json_response(200, service.list(caller(request)))
