"""S3, SNS and EventBridge deliveries: each delivers to a function through an internal queue
the runtime owns (`edu-local-<function>-<event>`), so delivery is at-least-once and survives
a runtime restart; the invocations are asynchronous as on AWS: a failure is retried twice
(after 1 s and 2 s locally instead of minutes), then the message moves to the internal
queue's DLQ (`...-dlq`) where `edu` can show it."""

from __future__ import annotations

import json
from typing import Any

from localcloud.intrinsics import ACCOUNT_ID
from localcloud.runtime.trigger import (
    POLL_WAIT_S,
    Trigger,
    internal_queue_name,
)

ASYNC_RETRY_DELAYS_S = (1, 2)  # AWS: ~1 min then ~2 min; shortened for a laptop


class AsyncQueueTrigger(Trigger):
    """An AWS service invoking a function asynchronously, through an internal queue."""

    async def setup(self) -> None:
        dlq_name = internal_queue_name(self.fn, self.ev, "-dlq")
        dlq = await self.blocking(lambda: self.sqs.create_queue(QueueName=dlq_name))
        dlq_arn = f"arn:aws:sqs:{self.owner.template.region}:{ACCOUNT_ID}:{dlq_name}"
        name = internal_queue_name(self.fn, self.ev)
        attrs = {"VisibilityTimeout": str(self.fn.timeout_s + 10),
                 "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                              "maxReceiveCount": len(ASYNC_RETRY_DELAYS_S) + 1})}
        resp = await self.blocking(lambda: self.sqs.create_queue(QueueName=name))
        self.url = resp["QueueUrl"]
        await self.blocking(lambda: self.sqs.set_queue_attributes(QueueUrl=self.url,
                                                                  Attributes=attrs))
        self.dlq_url = dlq["QueueUrl"]
        self.queue_arn = f"arn:aws:sqs:{self.owner.template.region}:{ACCOUNT_ID}:{name}"
        await self.connect()

    async def connect(self) -> None:
        raise NotImplementedError

    def to_event(self, body: str) -> Any | None:
        """The function's event for a queued message; None to drop it (e.g. test events)."""
        raise NotImplementedError

    async def run(self) -> None:
        while True:
            resp = await self.blocking(lambda: self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=POLL_WAIT_S,
                AttributeNames=["ApproximateReceiveCount"]))
            for msg in resp.get("Messages", []):
                await self.deliver(msg)

    async def deliver(self, msg: dict[str, Any]) -> None:
        try:
            event = self.to_event(msg["Body"])
        except (ValueError, KeyError, TypeError):
            event = None
            self.owner.log(f"[{self.label}] unreadable message dropped: {msg['Body'][:200]}")
        if event is not None:
            result = await self.invoke(event)
            if not result.ok:
                attempt = int(msg.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                delay = ASYNC_RETRY_DELAYS_S[min(attempt, len(ASYNC_RETRY_DELAYS_S)) - 1]
                if attempt > len(ASYNC_RETRY_DELAYS_S):
                    delay = 0  # next receive moves it to the DLQ
                self.owner.log(f"[{self.label}] async invoke failed ({result.status}), attempt "
                               f"{attempt}; {'retrying' if delay else 'to the DLQ'}")
                await self.blocking(lambda: self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=msg["ReceiptHandle"],
                    VisibilityTimeout=delay))
                self.owner.delivered(self, 0, 1)
                return
            self.owner.delivered(self, 1, 0)
        await self.blocking(lambda: self.sqs.delete_message(QueueUrl=self.url,
                                                            ReceiptHandle=msg["ReceiptHandle"]))


class S3Trigger(AsyncQueueTrigger):
    async def connect(self) -> None:
        s3 = self.owner.client("s3")
        bucket = str(self.ev.properties["Bucket"])
        events = self.ev.properties.get("Events") or ["s3:ObjectCreated:*"]
        events = [events] if isinstance(events, str) else list(events)
        rules = (((self.ev.properties.get("Filter") or {}).get("S3Key") or {}).get("Rules")
                 or [])
        ident = internal_queue_name(self.fn, self.ev)
        mine: dict[str, Any] = {"Id": ident, "QueueArn": self.queue_arn, "Events": events}
        if rules:
            mine["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]}
                                                      for r in rules]}}

        def merge() -> None:
            current = s3.get_bucket_notification_configuration(Bucket=bucket)
            current.pop("ResponseMetadata", None)
            queues = [q for q in current.get("QueueConfigurations", []) if q.get("Id") != ident]
            current["QueueConfigurations"] = [*queues, mine]
            s3.put_bucket_notification_configuration(Bucket=bucket,
                                                     NotificationConfiguration=current)

        await self.blocking(merge)

    def to_event(self, body: str) -> Any | None:
        data = json.loads(body)
        if data.get("Event") == "s3:TestEvent" or "Records" not in data:
            return None
        return {"Records": data["Records"]}


class EventBridgeTrigger(AsyncQueueTrigger):
    async def connect(self) -> None:
        events = self.owner.client("events")
        props = self.ev.properties
        bus = str(props.get("EventBusName", "default")).rsplit("/", 1)[-1]
        rule = internal_queue_name(self.fn, self.ev)
        target: dict[str, Any] = {"Id": "edu-local", "Arn": self.queue_arn}
        if "Input" in props:
            target["Input"] = props["Input"]
        if "InputPath" in props:
            target["InputPath"] = props["InputPath"]

        def wire() -> None:
            events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(
                props.get("Pattern") or {}), State=props.get("State", "ENABLED"))
            events.put_targets(Rule=rule, EventBusName=bus, Targets=[target])

        await self.blocking(wire)

    def to_event(self, body: str) -> Any | None:
        return json.loads(body)


class SnsTrigger(AsyncQueueTrigger):
    async def connect(self) -> None:
        sns = self.owner.client("sns")
        props = self.ev.properties
        attrs: dict[str, str] = {}
        if props.get("FilterPolicy"):
            attrs["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if props.get("FilterPolicyScope"):
            attrs["FilterPolicyScope"] = str(props["FilterPolicyScope"])
        resp = await self.blocking(lambda: sns.subscribe(
            TopicArn=str(props["Topic"]), Protocol="sqs", Endpoint=self.queue_arn,
            Attributes=attrs, ReturnSubscriptionArn=True))
        self.subscription_arn = resp["SubscriptionArn"]

    def to_event(self, body: str) -> Any | None:
        env = json.loads(body)
        if env.get("Type") != "Notification":
            return None
        sns = {k: env.get(k) for k in ("Type", "MessageId", "TopicArn", "Subject", "Message",
                                       "Timestamp", "SignatureVersion", "Signature",
                                       "SigningCertUrl", "UnsubscribeUrl")}
        sns["SigningCertUrl"] = env.get("SigningCertURL", sns.get("SigningCertUrl"))
        sns["UnsubscribeUrl"] = env.get("UnsubscribeURL", sns.get("UnsubscribeUrl"))
        sns["MessageAttributes"] = env.get("MessageAttributes") or {}
        return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                             "EventSubscriptionArn": self.subscription_arn, "Sns": sns}]}



# --- the set of all triggers ---------------------------------------------------------------
