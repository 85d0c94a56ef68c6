"""GET /health: liveness of the function runtime (no dependency calls: cheap and always up)."""

from edu.http import LambdaResponse, Request, endpoint, json_response


@endpoint
def handler(request: Request) -> LambdaResponse:
    return json_response(200, {"status": "ok"})
