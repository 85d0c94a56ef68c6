"""Messages to WebSocket clients through API Gateway's @connections API (boto3's
`apigatewaymanagementapi`), at the endpoint the invoking event names."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any


def connections_endpoint(event: dict[str, Any]) -> str:
    """https://{domainName}/{stage} as on AWS; plain http where the runtime is local."""
    ctx = event["requestContext"]
    scheme = "http" if os.environ.get("AWS_SAM_LOCAL") == "true" else "https"
    return f"{scheme}://{ctx['domainName']}/{ctx['stage']}"


class ConnectionsBroadcaster:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)

    def send(self, connection_ids: Sequence[str], payload: dict[str, object]) -> list[str]:
        data = json.dumps(payload, separators=(",", ":")).encode()
        gone = []
        for connection_id in connection_ids:
            try:
                self.client.post_to_connection(ConnectionId=connection_id, Data=data)
            except self.client.exceptions.GoneException:
                gone.append(connection_id)
        return gone
