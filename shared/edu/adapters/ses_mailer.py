"""Email through SES (moto's SES locally; the sender identity is verified from the template)."""

from __future__ import annotations

from typing import Any

from edu.notifications.service import Email


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self.client = client
        self.sender = sender

    def send(self, email: Email) -> str:
        resp = self.client.send_email(
            Source=self.sender, Destination={"ToAddresses": [email.to]},
            Message={"Subject": {"Data": email.subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"},
                              "Html": {"Data": email.html, "Charset": "UTF-8"}}})
        return str(resp["MessageId"])
