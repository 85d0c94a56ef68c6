"""POST /payments/stripe/webhook: verified Stripe events fulfil, fail or refund payments."""

from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.observability import count, get_logger
from edu.services import enrollment_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    # The raw body, byte for byte: the signature covers it (no JSON parsing before that).
    outcome = enrollment_service().handle_webhook(request.raw_body,
                                                  request.headers.get("stripe-signature", ""))
    get_logger().info("stripe webhook", extra={"outcome": outcome})
    if outcome == "enrolled":
        count("payments_succeeded")
        count("enrollments")
    elif outcome.startswith("refunded"):
        count("payments_refunded")
    return json_response(200, {"received": True, "outcome": outcome})
