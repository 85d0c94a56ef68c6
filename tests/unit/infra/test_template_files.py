"""The template deploys (cfn-lint runs the SAM transform); its wiring holds together."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_cfn_lint_reports_no_errors() -> None:
    proc = subprocess.run([sys.executable, "-m", "cfnlint", str(ROOT / "template.yaml")],
                          capture_output=True, text=True, check=False)
    # cfn-lint exit codes are bit flags: 2 = errors, 4 = warnings, 8 = informational.
    assert proc.returncode & 2 == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "events").rglob("*.json")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_event_files_parse(path: Path) -> None:
    assert isinstance(json.loads(path.read_text()), dict)


def test_there_are_event_files() -> None:
    assert list((ROOT / "events").rglob("*.json"))


def unresolved_resources() -> dict[str, Any]:
    """template.yaml's resources as written: CloudFormation's short forms (!Ref, !GetAtt,
    !Sub) as plain tagged values, e.g. {"Ref": "ConsumerVisibilityTimeout"}."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, tag, node: {tag: str(node.value)})
    resources: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(),
                                          Loader=Loader)["Resources"]
    return resources


def test_every_dead_letter_queue_has_an_alarm() -> None:
    raw = unresolved_resources()
    dlqs = {str(r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["GetAtt"])
            .split(".")[0] for r in raw.values()
            if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]}
    alarmed = {str(r["Properties"]["Dimensions"][0]["Value"]["GetAtt"]).split(".")[0]
               for r in raw.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert dlqs and dlqs <= alarmed, f"DLQs without an alarm: {dlqs - alarmed}"


def test_every_event_consumer_queue_keeps_a_message_for_the_same_receives() -> None:
    """The consumers share one backoff (ConsumerRetryBase); the receives decide how long an
    outage they ride out (edu.adapters.sqs_backoff.retry_span_s), and the fault drill sizes
    its backoff for CONSUMER_RECEIVES."""
    from localcloud.chaos import CONSUMER_RECEIVES

    consumer_timeout = {"Ref": "ConsumerVisibilityTimeout"}
    receives = {lid: r["Properties"]["RedrivePolicy"]["maxReceiveCount"]
                for lid, r in unresolved_resources().items() if r["Type"] == "AWS::SQS::Queue"
                and r["Properties"].get("VisibilityTimeout") == consumer_timeout}
    assert len(receives) >= 4, receives
    assert set(receives.values()) == {CONSUMER_RECEIVES}, receives
