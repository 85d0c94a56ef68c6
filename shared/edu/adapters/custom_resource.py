"""CloudFormation custom resources: the request a handler gets and the answer CloudFormation
waits for (a PUT of the outcome to the request's presigned ResponseURL).

A handler that raises answers FAILED with the error as the reason, so a stack operation fails
at once instead of waiting an hour for an answer that never comes.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from edu.observability import get_logger


@dataclass(frozen=True)
class CustomResourceRequest:
    request_type: str  # Create | Update | Delete
    properties: dict[str, Any]
    physical_id: str | None


def custom_resource(work: Callable[[CustomResourceRequest], str]
                    ) -> Callable[[dict[str, Any], Any], None]:
    """Wraps `work` (which returns the resource's physical id) as a custom resource handler."""

    @wraps(work)
    def handler(event: dict[str, Any], context: Any) -> None:
        request = CustomResourceRequest(
            request_type=str(event["RequestType"]),
            properties=dict(event.get("ResourceProperties") or {}),
            physical_id=event.get("PhysicalResourceId"))
        answer = {"StackId": event["StackId"], "RequestId": event["RequestId"],
                  "LogicalResourceId": event["LogicalResourceId"]}
        try:
            answer.update(Status="SUCCESS", PhysicalResourceId=work(request))
        except Exception as exc:
            get_logger().exception("custom resource failed")
            answer.update(Status="FAILED", Reason=f"{type(exc).__name__}: {exc}"[:1000],
                          PhysicalResourceId=request.physical_id or context.log_stream_name)
        body = json.dumps(answer).encode()
        put = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": ""})
        with urllib.request.urlopen(put, timeout=10) as response:
            response.read()

    return handler
