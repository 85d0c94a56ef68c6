"""Powertools' public layer ARNs become layers built from PyPI at the matching major
version; other ARNs stay unknown (the template loader warns about them)."""

from __future__ import annotations

import pytest

from localcloud.public_layers import public_layer


@pytest.mark.parametrize(("arn", "requirement"), [
    ("arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPython:9",
     "aws-lambda-powertools[pydantic,tracer,validation]==1.31.1"),
    ("arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:79",
     "aws-lambda-powertools[all]==2.43.1"),
    ("arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7",
     "aws-lambda-powertools[all]==3.37.0"),
])
def test_powertools_layers_are_built_from_pypi(arn: str, requirement: str) -> None:
    layer = public_layer(arn, "python3.12")
    assert layer is not None and layer.build_method == "python3.12"
    assert (layer.content_uri / "requirements.txt").read_text().strip() == requirement


@pytest.mark.parametrize("arn", [
    "arn:aws:lambda:us-east-1:111122223333:layer:AWSLambdaPowertoolsPython:9",  # not AWS's
    "arn:aws:lambda:us-east-1:017000801446:layer:SomethingElse:1",
    "not an arn"])
def test_other_layers_are_unknown(arn: str) -> None:
    assert public_layer(arn, "python3.12") is None
