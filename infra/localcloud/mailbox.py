"""The local mail viewer: what the platform sent through SES (moto keeps it), as two small
HTML pages under the local gateway (`/_edu/mail`, `/_edu/mail/<n>`), so a person can see
what a student received. Local only: on AWS, SES delivers the mail."""

from __future__ import annotations

from html import escape
from typing import Any

# The message page shows our own rendered email; still, no scripts or remote loads.
MESSAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.4rem .6rem;
border-bottom:1px solid #ddd}}th{{background:#f4f4f4}}input{{padding:.3rem;width:20rem}}
</style></head><body>{body}</body></html>"""


def mailbox_page(messages: list[dict[str, Any]], to: str | None = None) -> str:
    """Newest first, optionally only the messages to one address."""
    rows = []
    for index, message in reversed(list(enumerate(messages))):
        recipients = ", ".join(message["to"])
        if to and to.lower() not in recipients.lower():
            continue
        rows.append(f'<tr><td>{index + 1}</td><td>{escape(recipients)}</td>'
                    f'<td><a href="/_edu/mail/{index + 1}">'
                    f'{escape(message["subject"] or "(no subject)")}</a></td>'
                    f'<td>{escape(message["from"] or "")}</td></tr>')
    body = (f'<h1>Sent mail ({len(rows)})</h1><form method="get"><label>To: '
            f'<input name="to" value="{escape(to or "")}" placeholder="student@example.com">'
            '</label> <button>Filter</button></form>'
            '<table><thead><tr><th>#</th><th>To</th><th>Subject</th><th>From</th></tr>'
            f'</thead><tbody>{"".join(rows) or "<tr><td colspan=4>No mail yet.</td></tr>"}'
            '</tbody></table>')
    return _PAGE.format(title="Sent mail - EduPlatform (local)", body=body)


def message_page(messages: list[dict[str, Any]], number: int) -> str | None:
    if not 1 <= number <= len(messages):
        return None
    message = messages[number - 1]
    header = (f'<p><a href="/_edu/mail">All mail</a></p><h1>{escape(message["subject"])}</h1>'
              f'<p>To: {escape(", ".join(message["to"]))}<br>From: '
              f'{escape(message["from"] or "")}</p><hr>')
    return _PAGE.format(title=escape(message["subject"] or "mail"),
                        body=header + str(message["body"]))
