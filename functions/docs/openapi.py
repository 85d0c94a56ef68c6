"""GET /openapi.json: the HTTP API's OpenAPI document (built once per container)."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.openapi import openapi_document


@endpoint
def handler(request: Request) -> LambdaResponse:
    return json_response(200, openapi_document(), {"Cache-Control": "public, max-age=300"})
