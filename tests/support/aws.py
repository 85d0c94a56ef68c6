"""SDK clients for tests, pointed at the session's local AWS endpoint."""

from __future__ import annotations

from typing import Any

import boto3

from localcloud.stack import LocalCloud


def aws_client(cloud: LocalCloud, service: str) -> Any:
    return boto3.client(service, endpoint_url=cloud.aws_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
