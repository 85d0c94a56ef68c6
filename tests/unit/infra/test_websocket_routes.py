"""A WebSocket API read from its template, and how a message picks its route."""

from __future__ import annotations

from pathlib import Path

from localcloud.runtime.websocket_routes import WebSocketApi, WebSocketRoute, websocket_apis
from localcloud.template import load_template

CHAT = Path(__file__).resolve().parents[2] / "fixtures/websocket_chat/template.yaml"


def test_the_template_declares_routes_integrated_with_its_functions() -> None:
    template = load_template(CHAT)
    (api,) = websocket_apis(template)
    assert (api.logical_id, api.stage, api.selection) == ("ChatApi", "Prod",
                                                          "$request.body.action")
    assert {k: (r.function, r.two_way) for k, r in api.routes.items()} == {
        "$connect": ("OnConnectFunction", False), "$disconnect": ("OnDisconnectFunction", False),
        "sendmessage": ("SendMessageFunction", False), "$default": ("DefaultFunction", True)}
    assert api.authorizer is not None and api.authorizer.function == "AuthorizerFunction"
    assert api.authorizer.identity_sources == ("route.request.querystring.token",)
    assert template.warnings == []
    assert template.outputs["WebSocketURI"]["Value"].endswith("/Prod")  # a stage's Ref


def test_a_message_selects_its_route_by_the_expression_else_default() -> None:
    api = WebSocketApi("A", "a", "Prod", "$request.body.message.kind", {
        "chat": WebSocketRoute("chat", "ChatFn", False),
        "$default": WebSocketRoute("$default", "DefaultFn", True)})
    assert api.route_for('{"message": {"kind": "chat"}}').function == "ChatFn"  # type: ignore[union-attr]
    for other in ('{"message": {"kind": "poll"}}', '{"message": "chat"}', "not json", "[]"):
        assert api.route_for(other).function == "DefaultFn"  # type: ignore[union-attr]
    del api.routes["$default"]
    assert api.route_for("not json") is None
