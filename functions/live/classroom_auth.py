"""The live classroom's $connect REQUEST authorizer: the access token and the live session in
the query string; the course's teacher and its enrolled students are allowed, with who they
are as the context every event of the connection carries."""

from typing import Any

from edu.errors import EduError
from edu.observability import get_logger
from edu.services import classroom_service, identity_store, jwt_issuer, session_revocations


def authorize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    allowed: dict[str, str] | None = None
    try:
        claims = jwt_issuer().verify(str(query.get("token", "")))
        user = identity_store().by_id(str(claims["sub"]))
        ended = bool(claims.get("sid")) and session_revocations().revoked(str(claims["sid"]))
        if user is not None and not ended:
            allowed = classroom_service().admit(user.id, user.full_name,
                                                str(query.get("session", "")))
    except EduError as exc:
        get_logger().info("classroom refused", extra={"reason": exc.detail})
    except Exception as exc:  # an invalid token: PyJWT's errors
        get_logger().info("classroom refused", extra={"reason": type(exc).__name__})
    return {"principalId": allowed["user_id"] if allowed else "anonymous",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow" if allowed else "Deny",
                "Resource": event["methodArn"]}]},
            "context": allowed or {}}
