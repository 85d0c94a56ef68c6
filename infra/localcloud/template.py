"""Reads a SAM template into a typed model: functions, APIs, and the local cloud resources.

The local runtime is driven only by template.yaml; nothing here knows our product.
Intrinsic functions (!Ref, !GetAtt, !Sub, !Join, !Select, !Split, !If with the template's
Conditions) are resolved to *local* names and URLs; a resource whose Condition is false is
left out, as CloudFormation leaves it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REGION_DEFAULT = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
LATEST_STREAM = "latest"  # stands for the stream label in a !GetAtt Table.StreamArn


class TemplateError(Exception):
    """A template that cannot be read; the message names the file and line."""


# --- YAML with CloudFormation short-form tags ------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=_CfnLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise TemplateError(f"{where}: {exc.problem or exc}") from exc
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read template: {exc.strerror}") from exc
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path}:1: not a CloudFormation/SAM template (no Resources)")
    return data


# --- model ---------------------------------------------------------------------------


@dataclass
class EventSource:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class Function:
    logical_id: str
    handler: str
    code_uri: Path
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]
    layer_ids: list[str]
    reserved_concurrency: int | None
    snapstart: bool
    events: list[EventSource]
    arn: str = ""
    provisioned_concurrency: int = 0  # ProvisionedConcurrencyConfig: workers kept started

    @property
    def name(self) -> str:
        return self.logical_id


@dataclass
class Layer:
    """A layer the template declares: where its content is and how `sam build` builds it
    (Metadata.BuildMethod: "python3.12" installs its requirements.txt; "makefile" runs its
    Makefile's build-<LogicalId> target; none ships the folder as it is)."""

    logical_id: str
    content_uri: Path
    build_method: str | None = None


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    physical_name: str
    retain: bool = False  # DeletionPolicy: Retain (kept when the template drops it)


@dataclass
class Template:
    path: Path
    root: Path
    stack_name: str
    region: str
    parameters: dict[str, str]
    functions: dict[str, Function]
    resources: dict[str, Resource]
    layers: dict[str, Layer]
    apis: dict[str, Resource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def function_layers(self, fn: Function) -> list[Layer]:
        """The function's layers in the order AWS extracts them into /opt."""
        return [self.layers[lid] for lid in fn.layer_ids if lid in self.layers]

    def layer_paths(self, fn: Function) -> list[Path]:
        """The source folders of the function's layers (what a code change touches)."""
        return [layer.content_uri for layer in self.function_layers(fn)]

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]


# Properties the local runtime understands; anything else is reported once, by name.
SUPPORTED_FUNCTION_PROPS = {
    "Handler", "CodeUri", "Runtime", "MemorySize", "Timeout", "Environment", "Layers",
    "ReservedConcurrentExecutions", "SnapStart", "Events", "Architectures", "Description",
    "FunctionName", "Policies", "Role", "Tracing", "Tags", "LoggingConfig",
    "EphemeralStorage", "DeadLetterQueue", "AutoPublishAlias", "Metadata",
    "VpcConfig",  # locally every function is on the machine's network
    "ProvisionedConcurrencyConfig",
}


class _NoValue:
    """AWS::NoValue: the property (or list item) it stands for is removed."""


NO_VALUE = _NoValue()


class _Resolver:
    """Resolves intrinsic functions against local physical names."""

    def __init__(self, tpl_resources: dict[str, Any], parameters: dict[str, str],
                 stack_name: str, region: str, endpoint: str,
                 conditions: dict[str, Any] | None = None) -> None:
        self.raw = tpl_resources
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
        res = self.raw.get(name)
        if res is None:
            raise TemplateError(f"!Ref to unknown resource or parameter {name!r}")
        physical = self.names.get(name, f"{self.stack_name}-{name}")
        if res.get("Type") == "AWS::SQS::Queue":
            return f"{self.endpoint}/{ACCOUNT_ID}/{physical}"
        if res.get("Type") in ("AWS::SNS::Topic",):
            return f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:{physical}"
        return physical

    def get_att(self, name: str, attr: str) -> str:
        res = self.raw.get(name)
        if res is None:
            raise TemplateError(f"!GetAtt to unknown resource {name!r}")
        physical = self.names.get(name, f"{self.stack_name}-{name}")
        rtype = res.get("Type", "")
        service = {
            "AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns", "AWS::S3::Bucket": "s3",
            "AWS::DynamoDB::Table": "dynamodb", "AWS::Serverless::SimpleTable": "dynamodb",
            "AWS::Events::EventBus": "events", "AWS::Events::Rule": "events",
            "AWS::Serverless::Function": "lambda", "AWS::Logs::LogGroup": "logs",
        }.get(rtype, "unknown")
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


_NAME_PROPERTY = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
}


def _physical_name(stack: str, logical_id: str, rtype: str, props: dict[str, Any],
                   resolver: _Resolver) -> str:
    prop = _NAME_PROPERTY.get(rtype)
    if prop and prop in props:
        return str(resolver.resolve(props[prop]))
    name = f"{stack}-{logical_id}"
    if rtype == "AWS::S3::Bucket":
        name = name.lower()
    return name


def _read_samconfig(root: Path) -> tuple[str, str, dict[str, str]]:
    import tomllib

    cfg_path = root / "samconfig.toml"
    stack, region, overrides = "edu-platform", REGION_DEFAULT, {}
    if cfg_path.exists():
        cfg = tomllib.loads(cfg_path.read_text())
        # The `local` config environment describes the laptop stack; `default` is AWS.
        env = cfg.get("local") or cfg.get("default", {})
        params = env.get("deploy", {}).get("parameters", {})
        stack = params.get("stack_name", stack)
        region = params.get("region", region)
        for item in str(params.get("parameter_overrides", "")).split():
            if "=" in item:
                k, v = item.split("=", 1)
                overrides[k] = v.strip('"')
    return stack, region, overrides


def load_template(path: Path | str, *, endpoint: str = "http://127.0.0.1:4566",
                  parameter_overrides: dict[str, str] | None = None,
                  stack_name: str | None = None) -> Template:
    path = Path(path).resolve()
    root = path.parent
    raw = load_yaml(path)
    stack, region, sam_overrides = _read_samconfig(root)
    stack = stack_name or stack
    params: dict[str, str] = {}
    for name, spec in (raw.get("Parameters") or {}).items():
        if "Default" in spec:
            params[name] = str(spec["Default"])
    params.update(sam_overrides)
    params.update(parameter_overrides or {})
    resources_raw: dict[str, Any] = raw["Resources"] or {}
    resolver = _Resolver(resources_raw, params, stack, region, endpoint,
                         raw.get("Conditions") or {})
    # Names first (they may !Sub each other's refs only through parameters/pseudo params).
    for lid, res in resources_raw.items():
        if not isinstance(res, dict) or "Type" not in res:
            raise TemplateError(f"{path}: resource {lid} has no Type")
        resolver.names[lid] = _physical_name(stack, lid, res["Type"], res.get("Properties")
                                             or {}, resolver)

    globals_fn: dict[str, Any] = (raw.get("Globals") or {}).get("Function") or {}
    warnings: list[str] = []
    functions: dict[str, Function] = {}
    resources: dict[str, Resource] = {}
    layers: dict[str, Layer] = {}
    apis: dict[str, Resource] = {}
    for lid, res in resources_raw.items():
        if "Condition" in res and not resolver.condition(str(res["Condition"])):
            continue  # CloudFormation does not create it
        rtype = res["Type"]
        props = res.get("Properties") or {}
        if rtype == "AWS::Serverless::LayerVersion":
            method = (res.get("Metadata") or {}).get("BuildMethod")
            layers[lid] = Layer(lid, (root / str(props.get("ContentUri", "."))).resolve(),
                                str(method) if method else None)
            continue
        if rtype == "AWS::Serverless::Function":
            functions[lid] = _function(lid, props, globals_fn, resolver, root, resources_raw,
                                       warnings)
            continue
        resolved = resolver.resolve(props)
        resource = Resource(lid, rtype, resolved, resolver.names[lid],
                            retain=res.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"))
        resources[lid] = resource
        if rtype in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
            apis[lid] = resource
    outputs = resolver.resolve(raw.get("Outputs") or {})
    return Template(path, root, stack, region, params, functions, resources, layers, apis,
                    outputs, warnings)


def _function(lid: str, props: dict[str, Any], globals_fn: dict[str, Any], resolver: _Resolver,
              root: Path, raw: dict[str, Any],
              warnings: list[str]) -> Function:
    merged: dict[str, Any] = {k: v for k, v in globals_fn.items()}
    for key, value in props.items():
        if key == "Environment" and "Environment" in merged:
            env = dict((merged["Environment"] or {}).get("Variables") or {})
            env.update((value or {}).get("Variables") or {})
            merged["Environment"] = {"Variables": env}
        elif key == "Layers" and "Layers" in merged:
            merged["Layers"] = list(merged["Layers"]) + list(value)
        else:
            merged[key] = value
    for key in merged:
        if key not in SUPPORTED_FUNCTION_PROPS:
            warnings.append(f"{lid}: property {key} is not supported locally and is ignored")
    if "Handler" not in merged:
        raise TemplateError(f"function {lid} has no Handler")
    variables = resolver.resolve((merged.get("Environment") or {}).get("Variables") or {})
    env = {k: str(v) for k, v in variables.items()}
    layer_ids: list[str] = []
    for layer in merged.get("Layers") or []:
        if isinstance(layer, dict) and "Ref" in layer and layer["Ref"] in raw:
            layer_ids.append(str(layer["Ref"]))
        else:
            warnings.append(f"{lid}: layer {layer!r} is not in this template and is ignored")
    events = [
        EventSource(name, str(ev.get("Type")), resolver.resolve(ev.get("Properties") or {}))
        for name, ev in (merged.get("Events") or {}).items()
    ]
    snap = merged.get("SnapStart") or {}
    provisioned = resolver.resolve(merged.get("ProvisionedConcurrencyConfig") or {})
    provisioned = provisioned if isinstance(provisioned, dict) else {}
    reserved = resolver.resolve(merged.get("ReservedConcurrentExecutions"))
    if reserved is NO_VALUE:
        reserved = None
    return Function(
        logical_id=lid,
        handler=str(merged["Handler"]),
        code_uri=(root / str(merged.get("CodeUri", "."))).resolve(),
        runtime=str(merged.get("Runtime", "python3.12")),
        memory_mb=int(resolver.resolve(merged.get("MemorySize", 128))),
        timeout_s=int(resolver.resolve(merged.get("Timeout", 3))),
        environment=env,
        layer_ids=layer_ids,
        reserved_concurrency=int(reserved) if reserved is not None else None,
        snapstart=snap.get("ApplyOn") == "PublishedVersions",
        events=events,
        arn=resolver.get_att(lid, "Arn"),
        provisioned_concurrency=int(provisioned.get("ProvisionedConcurrentExecutions") or 0),
    )


def find_template(start: Path | None = None) -> Path:
    """The template.yaml of the project we are in (walks up from cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "template.yaml").exists():
            return candidate / "template.yaml"
    raise TemplateError(f"no template.yaml in {here} or its parents")
