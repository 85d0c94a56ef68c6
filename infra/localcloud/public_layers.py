"""Public layers a template may name by ARN that `edu` builds from PyPI (SAM CLI downloads
them from AWS): Powertools for AWS Lambda (Python), whose published layers the `sam init`
templates and most samples use. Any other layer ARN is left out with a warning."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from localcloud.template_model import Layer

POWERTOOLS_ACCOUNT = "017000801446"  # AWS's account that publishes the Powertools layers
# The layer's major version (its name: ...Python, ...PythonV2, ...PythonV3-<runtime>-<arch>)
# -> the package version the local layer is built from.
POWERTOOLS_VERSIONS = {"1": "1.31.1", "2": "2.43.1", "3": "3.37.0"}
_POWERTOOLS = re.compile(rf"arn:aws:lambda:[\w-]+:{POWERTOOLS_ACCOUNT}:layer:"
                         r"AWSLambdaPowertoolsPython(?:V(\d))?(?:-[\w-]+)?:\d+")


def public_layer(arn: str, python: str) -> Layer | None:
    """The local stand-in for a public layer's ARN, built for `python` ("python3.12"); None
    for a layer `edu` does not know."""
    found = _POWERTOOLS.fullmatch(arn.strip())
    if found is None:
        return None
    version = POWERTOOLS_VERSIONS.get(found.group(1) or "1")
    if version is None:
        return None
    folder = Path(tempfile.gettempdir()) / "edu-public-layers" / f"powertools-{version}"
    requirements = folder / "requirements.txt"
    # AWS's layers ship the package with its extras (parser, tracer, validation ...)
    extras = "pydantic,tracer,validation" if version.startswith("1.") else "all"
    wanted = f"aws-lambda-powertools[{extras}]=={version}\n"
    if not requirements.is_file() or requirements.read_text() != wanted:
        folder.mkdir(parents=True, exist_ok=True)
        requirements.write_text(wanted)
    return Layer(f"AWSLambdaPowertoolsPython-{version}", folder, python)
