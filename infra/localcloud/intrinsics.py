"""CloudFormation's intrinsic functions and conditions, resolved to *local* names and URLs
(`Resolver`), and the resources SAM's transform adds that templates may name
(`implicit_resources`)."""

from __future__ import annotations

import re
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
LATEST_STREAM = "latest"  # stands for the stream label in a !GetAtt Table.StreamArn


class TemplateError(Exception):
    """A template that cannot be read; the message names the file and line."""


# Resource types `edu` provisions on the local endpoint (localcloud.aws.bootstrap) or runs
# (functions, APIs, layers); every other type is reported once and left out.
LOCAL_RESOURCE_TYPES = {
    "AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Serverless::HttpApi",
    "AWS::Serverless::LayerVersion", "AWS::Serverless::SimpleTable", "AWS::DynamoDB::Table",
    "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::S3::Bucket",
    "AWS::Events::EventBus", "AWS::Events::Rule", "AWS::SecretsManager::Secret",
    "AWS::SSM::Parameter", "AWS::SES::EmailIdentity", "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Authorizer",
}
# ... of which these have nothing to run or create locally (permissions are not enforced).
WITHOUT_LOCAL_EFFECT = ("AWS::IAM::", "AWS::Lambda::Permission", "AWS::Logs::",
                        "AWS::CloudWatch::",
                        "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy",
                        "AWS::S3::BucketPolicy", "AWS::Events::Archive",
                        "AWS::ApiGatewayV2::Deployment")


def implicit_resources(raw: dict[str, Any]) -> dict[str, str]:
    """The resources SAM's transform adds to a template (logical id -> type), which templates
    may name in !Ref, !GetAtt and !Sub: each function's role, version and alias, each event's
    permission, and the implicit APIs (`ServerlessRestApi`, `ServerlessHttpApi`) with their
    deployment and stage."""
    implicit: dict[str, str] = {}
    rest = http = False
    for lid, res in raw.items():
        if not isinstance(res, dict):
            continue
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function":
            implicit[f"{lid}Role"] = "AWS::IAM::Role"
            implicit[f"{lid}Version"] = "AWS::Lambda::Version"
            alias = props.get("AutoPublishAlias")
            if isinstance(alias, str):
                implicit[f"{lid}Alias{alias}"] = "AWS::Lambda::Alias"
            for name, event in (props.get("Events") or {}).items():
                implicit[f"{lid}{name}Permission"] = "AWS::Lambda::Permission"
                event_props = (event or {}).get("Properties") or {}
                rest |= event.get("Type") == "Api" and "RestApiId" not in event_props
                http |= event.get("Type") == "HttpApi" and "ApiId" not in event_props
        elif res.get("Type") in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
            stage = props.get("StageName", "$default")
            implicit[f"{lid}Deployment"] = "AWS::ApiGateway::Deployment"
            implicit[f"{lid}{stage if stage != '$default' else 'ApiGatewayDefault'}Stage"] = \
                "AWS::ApiGateway::Stage"
    if rest:
        implicit.update({"ServerlessRestApi": "AWS::ApiGateway::RestApi",
                         "ServerlessRestApiDeployment": "AWS::ApiGateway::Deployment",
                         "ServerlessRestApiProdStage": "AWS::ApiGateway::Stage"})
    if http:
        implicit.update({"ServerlessHttpApi": "AWS::ApiGatewayV2::Api",
                         "ServerlessHttpApiApiGatewayDefaultStage": "AWS::ApiGatewayV2::Stage"})
    return {lid: rtype for lid, rtype in implicit.items() if lid not in raw}


class _NoValue:
    """AWS::NoValue: the property (or list item) it stands for is removed."""


NO_VALUE = _NoValue()


class Resolver:
    """Resolves intrinsic functions against local physical names."""

    def __init__(self, tpl_resources: dict[str, Any], parameters: dict[str, str],
                 stack_name: str, region: str, endpoint: str,
                 conditions: dict[str, Any] | None = None) -> None:
        self.raw = tpl_resources
        self.implicit = implicit_resources(tpl_resources)
        self.parameters = parameters
        self.stack_name = stack_name
        self.region = region
        self.endpoint = endpoint.rstrip("/")
        self.names: dict[str, str] = {}
        self.condition_specs = conditions or {}
        self.conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            if name not in self.condition_specs:
                raise TemplateError(f"unknown Condition {name!r}")
            self.conditions[name] = False  # a condition that refers to itself is false
            self.conditions[name] = self.truth(self.condition_specs[name])
        return self.conditions[name]

    def truth(self, spec: Any) -> bool:
        """A condition's value: Fn::Equals/Not/And/Or and {"Condition": name}."""
        if not isinstance(spec, dict) or len(spec) != 1:
            raise TemplateError(f"cannot evaluate condition {spec!r}")
        (key, arg), = spec.items()
        if key == "Condition":
            return self.condition(str(arg))
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.truth(arg[0])
        if key == "Fn::And":
            return all(self.truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self.truth(a) for a in arg)
        raise TemplateError(f"cannot evaluate condition function {key}")

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def ref(self, name: str) -> str:
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.parameters:
            return self.parameters[name]
        res = self._resource(name)
        if res is None:
            raise TemplateError(f"!Ref to unknown resource or parameter {name!r}")
        physical = self.names.get(name, f"{self.stack_name}-{name}")
        if res.get("Type") == "AWS::SQS::Queue":
            return f"{self.endpoint}/{ACCOUNT_ID}/{physical}"
        if res.get("Type") in ("AWS::SNS::Topic",):
            return f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:{physical}"
        if res.get("Type") == "AWS::ApiGatewayV2::Stage":  # a stage's Ref is its name
            return str(self.resolve((res.get("Properties") or {}).get("StageName", physical)))
        return physical

    def _resource(self, name: str) -> dict[str, Any] | None:
        """A resource of the template, or one SAM adds (as {"Type": ...})."""
        if name in self.raw:
            return dict(self.raw[name])
        return {"Type": self.implicit[name]} if name in self.implicit else None

    def get_att(self, name: str, attr: str) -> str:
        res = self._resource(name)
        if res is None:
            raise TemplateError(f"!GetAtt to unknown resource {name!r}")
        physical = self.names.get(name, f"{self.stack_name}-{name}")
        rtype = res.get("Type", "")
        service = {
            "AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns", "AWS::S3::Bucket": "s3",
            "AWS::DynamoDB::Table": "dynamodb", "AWS::Serverless::SimpleTable": "dynamodb",
            "AWS::Events::EventBus": "events", "AWS::Events::Rule": "events",
            "AWS::Serverless::Function": "lambda", "AWS::Logs::LogGroup": "logs",
            "AWS::IAM::Role": "iam", "AWS::Serverless::Api": "apigateway",
            "AWS::Serverless::HttpApi": "apigatewayv2",
        }.get(rtype) or [*rtype.split("::"), ""][1].lower()  # AWS::<Service>::<Kind>
        if attr == "Arn":
            if service == "s3":
                return f"arn:aws:s3:::{physical}"
            if service == "sqs" or service == "sns":
                return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{physical}"
            if service == "dynamodb":
                return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{physical}"
            if service == "events":
                kind = "event-bus" if rtype == "AWS::Events::EventBus" else "rule"
                return f"arn:aws:events:{self.region}:{ACCOUNT_ID}:{kind}/{physical}"
            if service == "lambda":
                return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{physical}"
            if service == "logs":
                return f"arn:aws:logs:{self.region}:{ACCOUNT_ID}:log-group:{physical}:*"
            if service == "iam":
                return f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"
            return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{physical}"
        if attr == "StreamArn" and service == "dynamodb":
            # The label is the stream's creation time, known once the table exists: the
            # stream mapping asks DynamoDB for the table's latest stream.
            return (f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{physical}"
                    f"/stream/{LATEST_STREAM}")
        if attr in ("QueueName", "Name", "TopicName"):
            return physical
        if attr == "QueueUrl":
            return f"{self.endpoint}/{ACCOUNT_ID}/{physical}"
        if attr == "DomainName":
            return f"{physical}.s3.amazonaws.com"
        if attr == "RootResourceId" and service == "apigateway":
            return "root"
        if attr in ("RoleId", "ApiEndpoint"):
            return physical
        raise TemplateError(f"!GetAtt {name}.{attr} is not supported locally")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" and arg == "AWS::NoValue":
                return NO_VALUE
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(str(parts[0]), str(parts[1]))
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(self.resolve(i)) for i in self.resolve(items))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(str(sep))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(str(arg[0])) else arg[2])
            if key == "Fn::GetAZs":
                return [f"{self.region}a", f"{self.region}b"]
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def repl(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(variables[expr])
            if "." in expr:
                name, attr = expr.split(".", 1)
                return self.get_att(name, attr)
            return self.ref(expr)

        return re.sub(r"\$\{([^}]+)\}", repl, str(text))


