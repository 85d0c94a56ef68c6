"""The local cloud's parts against the real servers the session fixture started."""

import json
import socket
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis

from edu.adapters.migrations import MigrationError, discover, migrate
from localcloud.aws import bootstrap
from localcloud.backing import ensure_database, start_redis
from localcloud.procs import PortInUse
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client as client


def test_every_template_resource_exists(cloud: LocalCloud) -> None:
    tpl = cloud.template()
    tables = set(client(cloud, "dynamodb").list_tables()["TableNames"])
    buckets = {b["Name"] for b in client(cloud, "s3").list_buckets()["Buckets"]}
    queues = {u.rsplit("/", 1)[-1] for u in client(cloud, "sqs").list_queues()["QueueUrls"]}
    buses = {b["Name"] for b in client(cloud, "events").list_event_buses()["EventBuses"]}
    for res in tpl.of_type("AWS::DynamoDB::Table"):
        assert res.physical_name in tables
    for res in tpl.of_type("AWS::S3::Bucket"):
        assert res.physical_name in buckets
    for res in tpl.of_type("AWS::SQS::Queue"):
        assert res.physical_name in queues
    for res in tpl.of_type("AWS::Events::EventBus"):
        assert res.physical_name in buses
    assert tpl.of_type("AWS::DynamoDB::Table") and tpl.of_type("AWS::SQS::Queue")


def test_queue_redrive_policy_comes_from_the_template(cloud: LocalCloud) -> None:
    sqs = client(cloud, "sqs")
    url = sqs.get_queue_url(QueueName="edu-platform-transcode")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attrs["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(":edu-platform-transcode-dlq")
    assert int(policy["maxReceiveCount"]) == 3
    assert attrs["VisibilityTimeout"] == "960"


def test_bucket_cors_comes_from_the_template(cloud: LocalCloud) -> None:
    raw = cloud.template().resources["RawVideoBucket"].physical_name
    rules = client(cloud, "s3").get_bucket_cors(Bucket=raw)["CORSRules"]
    assert rules[0]["AllowedMethods"] == ["POST"] and rules[0]["MaxAgeSeconds"] == 600


def test_raw_bucket_notifies_the_transcode_queue_of_uploads(cloud: LocalCloud) -> None:
    # Delivery itself is proven end to end by tests/e2e/video (upload -> transcode); here,
    # that the template's notification (queue, event, prefix filter) reached S3. Reading
    # the queue here would race the running platform's transcode consumer.
    config = client(cloud, "s3").get_bucket_notification_configuration(
        Bucket="edu-platform-raw-video-123456789012")
    (queue,) = config["QueueConfigurations"]
    assert queue["QueueArn"].endswith(":edu-platform-transcode")
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]


def test_bootstrap_is_idempotent(cloud: LocalCloud) -> None:
    report = bootstrap(cloud.template(), cloud.aws_url)
    assert report.existing
    assert not [c for c in report.created if not c.startswith("rule ")]


def test_migrations_apply_once_and_record_themselves(cloud: LocalCloud) -> None:
    assert migrate(cloud.database_url) == []  # the fixture already applied them
    with psycopg.connect(cloud.database_url) as conn:
        versions = [r[0] for r in conn.execute("select version from schema_migrations "
                                               "order by version")]
        assert versions == [m.version for m in discover()]
        assert conn.execute("select to_regclass('outbox')").fetchone() == ("outbox",)


def test_edited_applied_migration_is_refused(cloud: LocalCloud, tmp_path: Path) -> None:
    url = urlparse(cloud.database_url)._replace(path=f"/mig_{uuid.uuid4().hex[:8]}").geturl()
    ensure_database(url)
    migration = tmp_path / "0001_thing.sql"
    migration.write_text("create table mig_probe (id int);")
    assert migrate(url, tmp_path) == ["0001_thing"]
    migration.write_text("create table mig_probe (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(url, tmp_path)


def test_pg_trgm_is_available(cloud: LocalCloud) -> None:
    with psycopg.connect(cloud.database_url, autocommit=True) as conn:
        conn.execute("create extension if not exists pg_trgm")
        (sim,) = conn.execute("select similarity('python', 'pyhton')").fetchone()  # type: ignore[misc]
        assert 0 < sim < 1


def test_redis_answers(cloud: LocalCloud) -> None:
    r = redis.Redis.from_url(cloud.redis_url)
    r.set("probe", "1", ex=5)
    assert r.get("probe") == b"1"


def test_port_in_use_gives_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortInUse) as err:
            start_redis(tmp_path, port, tmp_path / "r.log")
    assert f"port {port}" in str(err.value) and "EDU_REDIS_PORT" in str(err.value)


def test_secrets_and_parameters_follow_the_template_as_a_stack_update_does(
        cloud: LocalCloud, tmp_path: Path) -> None:
    from localcloud.template import load_template

    name = f"t-{uuid.uuid4().hex[:8]}"
    (tmp_path / "template.yaml").write_text(f"""
Parameters:
  Url: {{Type: String, Default: "postgresql://a"}}
Resources:
  UrlSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: {name}/url
      SecretString: !Sub '{{"url": "${{Url}}"}}'
  Urls:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /{name}/urls
      Type: String
      Value: !Ref Url
""")
    sm, ssm = client(cloud, "secretsmanager"), client(cloud, "ssm")

    def apply(url: str) -> tuple[str, str]:
        bootstrap(load_template(tmp_path / "template.yaml",
                                parameter_overrides={"Url": url}), cloud.aws_url)
        return (json.loads(sm.get_secret_value(SecretId=f"{name}/url")["SecretString"])["url"],
                ssm.get_parameter(Name=f"/{name}/urls")["Parameter"]["Value"])

    try:
        assert apply("postgresql://a") == ("postgresql://a", "postgresql://a")
        # A value written since (a rotation) survives a re-run with the same template...
        sm.put_secret_value(SecretId=f"{name}/url", SecretString='{"url": "rotated"}')
        assert apply("postgresql://a") == ("rotated", "postgresql://a")
        # ...and a changed template value replaces it, as a stack update would.
        assert apply("postgresql://b") == ("postgresql://b", "postgresql://b")
    finally:
        sm.delete_secret(SecretId=f"{name}/url", ForceDeleteWithoutRecovery=True)
        ssm.delete_parameter(Name=f"/{name}/urls")
