"""A template's WebSocket APIs as declared: each `AWS::ApiGatewayV2::Api` with
`ProtocolType: WEBSOCKET`, its routes and their Lambda integrations, the REQUEST authorizer
on its $connect route, its stage; and how a message picks its route."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from localcloud.template import Resource, Template


@dataclass(frozen=True)
class WebSocketRoute:
    key: str
    function: str  # the integration's function (logical id)
    two_way: bool  # a RouteResponseSelectionExpression: the integration's answer goes back


@dataclass(frozen=True)
class ConnectAuthorizer:
    """A Lambda REQUEST authorizer on $connect: its function, and where the identity is
    (`route.request.header.X`, `route.request.querystring.Y`)."""

    function: str
    identity_sources: tuple[str, ...]


@dataclass
class WebSocketApi:
    logical_id: str
    api_id: str
    stage: str
    selection: str  # e.g. "$request.body.action"
    routes: dict[str, WebSocketRoute] = field(default_factory=dict)
    authorizer: ConnectAuthorizer | None = None

    def route_for(self, body: str) -> WebSocketRoute | None:
        """The route a message selects: the key the selection expression reads from its JSON
        body, else `$default` (None when there is neither)."""
        key = None
        path = self.selection.removeprefix("$request.body.")
        if path != self.selection:
            try:
                value: Any = json.loads(body)
                for part in path.split("."):
                    value = value[part] if isinstance(value, dict) else None
                key = value if isinstance(value, str) else None
            except ValueError:
                key = None
        return self.routes.get(key or "") or self.routes.get("$default")


def websocket_apis(template: Template) -> list[WebSocketApi]:
    """The template's WebSocket APIs with their routes; routes whose integration is not a
    Lambda function of the template are named in the template's warnings."""
    by_arn = {fn.arn: name for name, fn in template.functions.items()}
    integrations: dict[str, str] = {}
    for integ in template.of_type("AWS::ApiGatewayV2::Integration"):
        uri = str(integ.properties.get("IntegrationUri", ""))
        target = next((name for arn, name in by_arn.items()
                       if f"{arn}/invocations" in uri or uri == arn), None)
        if target is not None:
            integrations[integ.physical_name] = target
    stages = {str(s.properties.get("ApiId")): str(s.properties.get("StageName", "Prod"))
              for s in template.of_type("AWS::ApiGatewayV2::Stage")}
    apis = []
    for api in template.of_type("AWS::ApiGatewayV2::Api"):
        if str(api.properties.get("ProtocolType", "")).upper() != "WEBSOCKET":
            template.warnings.append(f"{api.logical_id}: an ApiGatewayV2 HTTP API declared "
                                     "without SAM is not served locally")
            continue
        found = WebSocketApi(api.logical_id, api.physical_name,
                             stages.get(api.physical_name, "Prod"),
                             str(api.properties.get("RouteSelectionExpression",
                                                    "$request.body.action")))
        for route in template.of_type("AWS::ApiGatewayV2::Route"):
            if str(route.properties.get("ApiId")) == api.physical_name:
                _add_route(found, route, integrations, template.warnings)
                if route.properties.get("RouteKey") == "$connect":
                    found.authorizer = _authorizer(template, route, by_arn)
        apis.append(found)
    return apis


def _authorizer(template: Template, route: Resource, by_arn: dict[str, str]
                ) -> ConnectAuthorizer | None:
    """The REQUEST authorizer a $connect route names (AuthorizationType CUSTOM)."""
    if str(route.properties.get("AuthorizationType", "NONE")).upper() != "CUSTOM":
        return None
    wanted = str(route.properties.get("AuthorizerId", ""))
    for spec in template.of_type("AWS::ApiGatewayV2::Authorizer"):
        if spec.physical_name != wanted:
            continue
        uri = str(spec.properties.get("AuthorizerUri", ""))
        function = next((name for arn, name in by_arn.items()
                         if f"{arn}/invocations" in uri or uri == arn), None)
        if function is None:
            break
        sources = spec.properties.get("IdentitySource") or []
        return ConnectAuthorizer(function, tuple(
            str(s) for s in ([sources] if isinstance(sources, str) else sources)))
    template.warnings.append(f"{route.logical_id}: its authorizer is not a REQUEST authorizer "
                             "function of this template; $connect runs unauthorized")
    return None


def _add_route(api: WebSocketApi, route: Resource, integrations: dict[str, str],
               warnings: list[str]) -> None:
    key = str(route.properties.get("RouteKey", ""))
    target = str(route.properties.get("Target", "")).removeprefix("integrations/")
    function = integrations.get(target)
    if function is None:
        warnings.append(f"{api.logical_id}: route {key} is not served locally (its "
                        "integration is not a function of this template)")
        return
    api.routes[key] = WebSocketRoute(key, function, bool(
        route.properties.get("RouteResponseSelectionExpression")))
