"""Reads a SAM template into a typed model: functions, APIs, and the local cloud resources.

The local runtime is driven only by template.yaml; nothing here knows our product.
Intrinsic functions are resolved to *local* names and URLs (`localcloud.intrinsics`); a
resource whose Condition is false is left out, as CloudFormation leaves it out, and so is a
resource of a type `edu` does not run (with a warning, once per type).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from localcloud.intrinsics import (
    LOCAL_RESOURCE_TYPES,
    NO_VALUE,
    WITHOUT_LOCAL_EFFECT,
    Resolver,
    TemplateError,
)
from localcloud.public_layers import public_layer
from localcloud.template_model import (
    LOCAL_SERVICES,
    EventSource,
    Function,
    Layer,
    LocalExtras,
    Resource,
    Template,
)

# The model is in template_model; importers take it from here with the loader.
__all__ = ["EventSource", "Function", "Layer", "LocalExtras", "Resource", "Template",
           "TemplateError", "apply_env_vars", "find_template", "load_template",
           "read_local_extras"]
REGION_DEFAULT = "us-east-1"


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


def local_extras(raw: dict[str, Any], path: Path) -> LocalExtras:
    declared = (raw.get("Metadata") or {}).get("edu") or {}
    if not isinstance(declared, dict):
        raise TemplateError(f"{path}: Metadata.edu must be a mapping")
    services = tuple(str(s) for s in declared.get("services") or ())
    unknown = sorted(set(services) - set(LOCAL_SERVICES))
    if unknown:
        raise TemplateError(f"{path}: Metadata.edu.services: unknown {', '.join(unknown)} "
                            f"(choose from {', '.join(LOCAL_SERVICES)})")
    setup = declared.get("setup")
    parameters = {str(k): str(v) for k, v in (declared.get("parameters") or {}).items()}
    return LocalExtras(services, str(setup) if setup else None, parameters)


def read_local_extras(path: Path) -> LocalExtras:
    return local_extras(load_yaml(path), path)


# Properties the local runtime understands; anything else is reported once, by name.
SUPPORTED_FUNCTION_PROPS = {
    "Handler", "CodeUri", "InlineCode", "Runtime", "MemorySize", "Timeout", "Environment", "Layers",
    "ReservedConcurrentExecutions", "SnapStart", "Events", "Architectures", "Description",
    "FunctionName", "Policies", "Role", "Tracing", "Tags", "LoggingConfig",
    "EphemeralStorage", "DeadLetterQueue", "AutoPublishAlias", "Metadata",
    "VpcConfig",  # locally every function is on the machine's network
    "ProvisionedConcurrencyConfig",
}


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
                   resolver: Resolver) -> str:
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
    stack, region, overrides = "sam-app", REGION_DEFAULT, {}  # sam init's stack name
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
    resolver = Resolver(resources_raw, params, stack, region, endpoint,
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
    ignored: dict[str, list[str]] = {}  # resource type -> logical ids
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
                                       warnings, layers)
            continue
        if rtype not in LOCAL_RESOURCE_TYPES:
            ignored.setdefault(rtype, []).append(lid)
            continue
        resolved = resolver.resolve(props)
        resource = Resource(lid, rtype, resolved, resolver.names[lid],
                            retain=res.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"))
        resources[lid] = resource
        if rtype in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
            apis[lid] = resource
    for api in apis.values():
        _definition_routes(api, functions, warnings)
    for rtype, lids in ignored.items():
        if not rtype.startswith(WITHOUT_LOCAL_EFFECT):
            named = ", ".join(lids[:3]) + (f" and {len(lids) - 3} more" if len(lids) > 3 else "")
            warnings.append(f"{rtype} is not run locally: {named} left out")
    outputs = _outputs(raw.get("Outputs") or {}, resolver, warnings)
    return Template(path, root, stack, region, params, functions, resources, layers, apis,
                    outputs, warnings, local_extras(raw, path))


_OPENAPI_METHODS = {"get", "put", "post", "delete", "patch", "head", "options",
                    "x-amazon-apigateway-any-method"}


def _definition_routes(api: Resource, functions: dict[str, Function],
                       warnings: list[str]) -> None:
    """Routes an API declares only in its OpenAPI `DefinitionBody` become events of the
    functions their Lambda proxy integrations name (as if declared on the function); other
    integrations (HTTP, mock, AWS services) are named in a warning."""
    body = api.properties.get("DefinitionBody")
    if not isinstance(body, dict):
        return
    http = api.type == "AWS::Serverless::HttpApi"
    for path, operations in (body.get("paths") or {}).items():
        for method, operation in (operations or {}).items():
            if method.lower() not in _OPENAPI_METHODS or not isinstance(operation, dict):
                continue
            route = f"{method.upper()} {path}"
            integration = operation.get("x-amazon-apigateway-integration") or {}
            kind = str(integration.get("type", "")).lower()
            uri = str(integration.get("uri", ""))
            target = next((fn for fn in functions.values() if kind == "aws_proxy" and (
                f"{fn.arn}/invocations" in uri or f"{fn.arn}:" in uri)), None)
            if target is None:
                warnings.append(f"{api.logical_id}: {route} is not served locally (its "
                                f"integration is {kind or 'missing'}, not a Lambda proxy)")
                continue
            declared = {(str(e.properties.get("Path")), str(e.properties.get("Method")).upper())
                        for e in target.events}
            if (path, method.upper()) in declared:  # also an event of the function
                continue
            version = integration.get("payloadFormatVersion") or ("2.0" if http else "1.0")
            target.events.append(EventSource(
                f"{api.logical_id}{method.capitalize()}{len(target.events)}",
                "HttpApi" if http else "Api",
                {"Path": path, "Method": method, "ApiId": api.physical_name,
                 "PayloadFormatVersion": str(version)}))


def _outputs(raw: dict[str, Any], resolver: Resolver, warnings: list[str]) -> dict[str, Any]:
    """Each output resolved on its own: one that names what has no local counterpart is left
    as written, with a warning, and never stops the template from loading."""
    outputs: dict[str, Any] = {}
    for name, spec in raw.items():
        if isinstance(spec, dict) and "Condition" in spec and not resolver.condition(
                str(spec["Condition"])):
            continue  # CloudFormation leaves it out
        try:
            outputs[name] = resolver.resolve(spec)
        except (TemplateError, LookupError, TypeError, ValueError) as exc:
            warnings.append(f"output {name} left unresolved: {exc}")
            outputs[name] = spec
    return outputs


def _inline_code(lid: str, code: str) -> Path:
    """A folder holding a function's InlineCode as `index.py` (SAM's module name for it),
    named by the code's digest so an edit gets a new folder and workers reload."""
    import hashlib
    import tempfile

    digest = hashlib.sha256(code.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "edu-inline-code" / f"{lid}-{digest}"
    if not (folder / "index.py").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.py").write_text(code)
    return folder


def _function(lid: str, props: dict[str, Any], globals_fn: dict[str, Any], resolver: Resolver,
              root: Path, raw: dict[str, Any], warnings: list[str],
              layers: dict[str, Layer]) -> Function:
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
            note = f"property {key} is not supported locally and is ignored"
            if note not in warnings:  # once, not once per function (Globals give it to all)
                warnings.append(note)
    if "Handler" not in merged:
        raise TemplateError(f"function {lid} has no Handler")
    variables = resolver.resolve((merged.get("Environment") or {}).get("Variables") or {})
    env = {k: str(v) for k, v in variables.items()}
    layer_ids: list[str] = []
    runtime = str(merged.get("Runtime", "python3.12"))
    for layer in merged.get("Layers") or []:
        if isinstance(layer, dict) and "Ref" in layer and layer["Ref"] in raw:
            layer_ids.append(str(layer["Ref"]))
            continue
        arn = resolver.resolve(layer)
        public = public_layer(str(arn), runtime) if isinstance(arn, str) else None
        if public is not None:  # built from PyPI, as SAM CLI downloads it from AWS
            layers.setdefault(public.logical_id, public)
            layer_ids.append(public.logical_id)
        else:
            warnings.append(f"{lid}: layer {arn!r} is not in this template and is ignored")
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
        code_uri=(_inline_code(lid, str(merged["InlineCode"]))
                  if "InlineCode" in merged and "CodeUri" not in merged
                  else (root / str(merged.get("CodeUri", "."))).resolve()),
        runtime=runtime,
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


def apply_env_vars(template: Template, path: Path) -> None:
    """SAM's `--env-vars` file: `{"Parameters": {VAR: value}}` for every function and
    `{"LogicalId": {VAR: value}}` for one; its values win over the template's."""
    import json

    try:
        given = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TemplateError(f"{path}: cannot read environment overrides: {exc}") from None
    if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
        raise TemplateError(f'{path}: expected {{"Parameters": {{...}}, "FunctionId": '
                            "{...}} of variable names to values")
    unknown = sorted(set(given) - {"Parameters", *template.functions})
    if unknown:
        raise TemplateError(f"{path}: no function {', '.join(unknown)} in the template")
    for fn in template.functions.values():
        for scope in ("Parameters", fn.name):
            fn.environment.update({k: str(v) for k, v in (given.get(scope) or {}).items()})


def find_template(start: Path | None = None) -> Path:
    """The template.yaml of the project we are in (walks up from cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "template.yaml").exists():
            return candidate / "template.yaml"
    raise TemplateError(f"no template.yaml in {here} or its parents")
