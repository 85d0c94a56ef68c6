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


def unresolved_template() -> dict[str, Any]:
    """template.yaml as written: CloudFormation's short forms (!Ref, !GetAtt, !Sub) as plain
    tagged values, e.g. {"Ref": "ConsumerVisibilityTimeout"}."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, tag, node: {tag: str(node.value)})
    doc: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    return doc


def unresolved_resources() -> dict[str, Any]:
    resources: dict[str, Any] = unresolved_template()["Resources"]
    return resources


def test_every_dead_letter_queue_has_an_alarm() -> None:
    raw = unresolved_resources()
    dlqs = {str(r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["GetAtt"])
            .split(".")[0] for r in raw.values()
            if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]}
    dlqs.add("EventDeliveryDLQ")  # EventBridge targets' dead-letter queue
    queue_alarms = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::CloudWatch::Alarm"
                    and r["Properties"].get("Namespace") == "AWS/SQS"]
    alarmed = {str(p["Dimensions"][0]["Value"]["GetAtt"]).split(".")[0] for p in queue_alarms}
    assert dlqs and dlqs <= alarmed, f"DLQs without an alarm: {dlqs - alarmed}"


def test_the_stack_alarms_on_errors_throttles_5xx_and_a_late_stream() -> None:
    alarms = [r["Properties"] for r in unresolved_resources().values()
              if r["Type"] == "AWS::CloudWatch::Alarm"]
    metrics = {p.get("MetricName") for p in alarms} | {
        m["MetricStat"]["Metric"]["MetricName"] for p in alarms for m in p.get("Metrics", [])
        if "MetricStat" in m}
    assert {"Errors", "Throttles", "5xx", "IteratorAge"} <= metrics
    assert all(p["AlarmActions"] == [{"Ref": "AlertsTopic"}] for p in alarms)


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


# What a service factory of edu.services reads, by the policy the template must grant for it.
SIGNING = "SigningSecret"
DATABASE = "DatabaseAccessPolicy"
INTEGRATIONS = "IntegrationsSecret"
URLS = "public-urls"
NEEDS = {"course_service": {SIGNING, DATABASE},
         "enrollment_service": {SIGNING, INTEGRATIONS, DATABASE},
         "webhook_service": {SIGNING, DATABASE}, "video_service": {SIGNING, URLS, DATABASE},
         "analytics_service": {DATABASE}, "relay_outboxes": {DATABASE},
         "apply_migrations": {DATABASE},
         "identity_service": {URLS}, "jwt_issuer": {URLS}, "optional_caller": {URLS},
         "request_authorizer": {URLS}, "notification_service": {URLS}}


def test_each_function_may_read_the_secrets_and_urls_its_handler_uses() -> None:
    import re

    raw = unresolved_resources()
    checked = 0
    for lid, res in raw.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        source = (ROOT / props["CodeUri"] / (props["Handler"].rsplit(".", 1)[0] + ".py"))
        used = set(re.findall(r"\b([a-z_]+)\(", source.read_text()))
        wanted = set().union(*(NEEDS[name] for name in used & NEEDS.keys()))
        granted = json.dumps(props.get("Policies") or [])
        missing = {need for need in wanted if need not in granted}
        assert not missing, f"{lid} reads {missing} without a policy for it"
        checked += bool(wanted)
    assert checked >= 30


def test_no_function_environment_carries_a_secret() -> None:
    doc = unresolved_template()
    secret_params = {name for name, spec in doc["Parameters"].items() if spec.get("NoEcho")}
    assert {"StripeSecretKey", "StripeWebhookSecret", "MeiliApiKey",
            "DatabaseUrl"} <= secret_params
    environments = [doc["Globals"]["Function"]["Environment"]["Variables"]] + [
        (r["Properties"].get("Environment") or {}).get("Variables") or {}
        for r in doc["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    for variables in environments:
        for name, value in variables.items():
            assert str(value) not in {str({"Ref": p}) for p in secret_params}, name
    assert not any(p.get("Default") for n, p in doc["Parameters"].items()
                   if n in {"StripeSecretKey", "StripeWebhookSecret"})


def test_every_checkov_check_the_template_skips_says_why() -> None:
    doc = unresolved_template()
    skips = doc["Metadata"]["CheckovSkips"]
    assert skips, "no skips: then drop --skip-check from .ci/template-checks"
    for check, reason in skips.items():
        assert check.startswith("CKV_") and len(str(reason).split()) >= 12, check
    # Resource-level skips (checkov's own Metadata.checkov.skip) need a comment too.
    for lid, res in doc["Resources"].items():
        for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            assert skip.get("comment"), f"{lid} skips {skip.get('id')} without a comment"


def test_the_deploy_applies_migrations_up_to_the_newest_file() -> None:
    from edu.adapters.migrations import discover

    doc = unresolved_template()
    # A new migration file needs a new MigrationsVersion, or a deploy would not run it.
    assert doc["Parameters"]["MigrationsVersion"]["Default"] == discover()[-1].version


def test_the_data_plane_exists_only_when_no_urls_are_given() -> None:
    raw = unresolved_resources()
    kinds = ("AWS::EC2::", "AWS::RDS::", "AWS::ElastiCache::")
    plane = {lid: r for lid, r in raw.items() if r["Type"].startswith(kinds)}
    assert {"DatabaseCluster", "DatabaseProxy", "Cache", "NatGateway", "Vpc"} <= set(plane)
    assert all(r.get("Condition", "").startswith("Provisions") for r in plane.values())
    given = load_template(ROOT / "template.yaml")  # samconfig's local URLs
    assert not any(r.type.startswith(kinds) for r in given.resources.values())
    assert "EDU_DATABASE_SECRET_ID" in given.functions["CatalogFunction"].environment
    assert "DatabaseUrlSecret" in given.resources


def test_queue_consumers_may_delay_their_own_failed_messages() -> None:
    """edu.adapters.sqs_backoff looks the queue's URL up and changes a failed message's
    visibility: without both permissions a whole batch fails and loses its backoff."""
    consumers = 0
    for lid, res in unresolved_resources().items():
        events = (res.get("Properties") or {}).get("Events") or {}
        queues = [str(e["Properties"]["Queue"]["GetAtt"]).split(".")[0]
                  for e in events.values() if e["Type"] == "SQS"]
        for queue in queues:
            granted = json.dumps(res["Properties"]["Policies"])
            assert "sqs:ChangeMessageVisibility" in granted and "sqs:GetQueueUrl" in granted, lid
            assert f"{queue}.Arn" in granted, lid
            consumers += 1
    assert consumers >= 6


def test_every_parameter_says_what_to_give() -> None:
    params = unresolved_template()["Parameters"]
    undescribed = [name for name, spec in params.items() if not spec.get("Description")]
    assert not undescribed, f"`sam deploy --guided` shows these bare: {undescribed}"
    assert params["Stage"]["Default"] != "local"  # a deploy never runs the local stage by default
