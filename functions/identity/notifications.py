"""PATCH /me/notifications: opt in or out of non-transactional email."""

from edu.guards import caller
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.identity.models import NotificationPrefsIn
from edu.services import identity_service


@endpoint
def handler(request: Request) -> LambdaResponse:
    prefs = request.json_body(NotificationPrefsIn)
    return json_response(200, identity_service().set_notifications(
        caller(request).user_id, prefs.marketing_emails))
