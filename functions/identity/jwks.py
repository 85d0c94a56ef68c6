"""GET /.well-known/jwks.json and /.well-known/openid-configuration: how to verify tokens."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import jwt_issuer


@endpoint
def handler(request: Request) -> LambdaResponse:
    issuer = jwt_issuer()
    cache = {"Cache-Control": "public, max-age=300"}
    if request.path.endswith("/openid-configuration"):
        return json_response(200, issuer.openid_configuration(), cache)
    return json_response(200, issuer.keys.jwks, cache)
