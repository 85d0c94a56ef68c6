"""GET /teacher/webhooks/{id}/deliveries (the delivery log, newest first) and
POST /teacher/webhooks/{id}/deliveries/{delivery_id}/redeliver (202: queued)."""

from edu.guards import caller, limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.pagination import PageParams
from edu.services import webhook_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    service, webhook_id = webhook_service(), request.path_params["id"]
    if request.method == "POST":
        return json_response(202, service.redeliver(
            limited_writer(request), webhook_id, request.path_params["delivery_id"]))
    return json_response(200, service.deliveries(caller(request), webhook_id,
                                                 request.query_params(PageParams)))
