"""`edu local start-api` over real HTTP: routing, payload v2, errors, CORS, throttling."""

import json
import re
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.integration.infra.conftest import RunningRuntime


def test_path_params_query_headers_and_cookies_reach_the_handler(api: str) -> None:
    resp = httpx.get(f"{api}/items/a%20b?x=1&x=2&y=", headers={"X-Thing": "v"},
                     cookies={"sid": "abc"})
    assert resp.status_code == 200
    event = resp.json()["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["headers"]["x-thing"] == "v"
    assert event["cookies"] == ["sid=abc"]
    assert event["requestContext"]["http"]["method"] == "GET"
    assert resp.headers["x-request-id"] == event["requestContext"]["requestId"]
    assert resp.headers["set-cookie"] == "seen=1; Path=/"
    assert resp.json()["greeting"] == "hello"


def test_literal_route_beats_parameter_route(api: str) -> None:
    resp = httpx.get(f"{api}/items/new")
    assert resp.status_code == 200
    assert resp.json() == {"route": "GET /items/new"}  # bare return inferred as 200 JSON


def test_greedy_proxy_route(api: str) -> None:
    resp = httpx.delete(f"{api}/files/a/b/c.txt")
    assert resp.json()["event"]["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_json_body_is_passed_as_text(api: str) -> None:
    resp = httpx.post(f"{api}/items", json={"n": 1})
    event = resp.json()["event"]
    assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"n": 1}


def test_large_events_one_after_another_reach_the_worker_whole(api: str) -> None:
    # Bodies above and below the worker's receive buffer (256 KB), in turn on warm workers:
    # each event is read across several receives into the same reused buffer.
    for size in (1_500_000, 10, 300_000, 262_144, 5):
        text = "".join(chr(ord("a") + (i * 7 + size) % 26) for i in range(size))
        resp = httpx.post(f"{api}/items", content=text,
                          headers={"content-type": "text/plain"}, timeout=30)
        assert resp.status_code == 200
        assert resp.json()["event"]["body"] == text


def test_pipelined_requests_get_whole_responses_in_order_before_close(api: str) -> None:
    # Keep-alive with pipelining (HTTP/1.1): responses leave whole and in order, and
    # `Connection: close` on the last one closes only after its response is sent.
    host, port = api.removeprefix("http://").split(":")
    request = "GET /items/{} HTTP/1.1\r\nHost: x\r\n{}\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall((request.format("new", "") + request.format("a", "")
                      + request.format("b", "Connection: close\r\n")).encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    bodies = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
        assert head.startswith(b"HTTP/1.1 200")
        bodies.append(json.loads(rest[:length]))
        data = rest[length:]
    assert [b.get("route") or b["event"]["pathParameters"]["id"] for b in bodies] == [
        "GET /items/new", "a", "b"]


def test_binary_body_round_trips_base64(api: str) -> None:
    resp = httpx.post(f"{api}/binary", content=bytes([0, 1, 2, 255]),
                      headers={"content-type": "application/octet-stream"})
    assert resp.status_code == 200 and resp.content == bytes([255, 2, 1, 0])


def test_unmatched_route_and_method_are_404(api: str) -> None:
    assert httpx.get(f"{api}/nope").json() == {"message": "Not Found"}
    assert httpx.put(f"{api}/items").status_code == 404


def test_handler_exception_is_502(api: str) -> None:
    resp = httpx.get(f"{api}/fail")
    assert resp.status_code == 502 and resp.json() == {"message": "Internal Server Error"}


def test_timeout_is_504(api: str) -> None:
    resp = httpx.get(f"{api}/sleep", timeout=10)
    assert resp.status_code == 504


def test_reserved_concurrency_excess_is_429_with_retry_after(api: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: httpx.get(f"{api}/slow", timeout=10), range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes[0] == 200 and 429 in codes
    throttled = next(a for a in answers if a.status_code == 429)
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json() == {"message": "Too Many Requests"}


def test_cors_preflight_and_simple_request(api: str) -> None:
    pre = httpx.options(f"{api}/items", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert pre.headers["access-control-max-age"] == "300"
    simple = httpx.get(f"{api}/items/1", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    other = httpx.get(f"{api}/items/1", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers




def test_handler_content_length_is_not_duplicated(api: str) -> None:
    with httpx.Client() as client:
        resp = client.get(f"{api}/length")
        assert resp.status_code == 200 and resp.text == "ok"
        assert resp.headers.get_list("content-length") == ["2"]


def test_rest_api_event_gets_payload_v1(api: str) -> None:
    resp = httpx.post(f"{api}/v1/things/t1?a=1&a=2", json={"k": "v"}, headers={"X-Multi": "x"})
    assert resp.status_code == 200
    event = resp.json()["event"]
    assert event["httpMethod"] == "POST" and event["resource"] == "/v1/things/{thing}"
    assert event["pathParameters"] == {"thing": "t1"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueHeaders"]["x-multi"] == ["x"]
    assert json.loads(event["body"]) == {"k": "v"}


def test_workers_do_not_hold_the_runtime_s_listening_sockets(runtime: RunningRuntime) -> None:
    """A worker that kept a copy of the gateway's listening socket kept its port bound after
    the gateway stopped (the next `edu up` found it in use) and let the kernel queue
    connections that nobody would accept."""
    import psutil

    assert httpx.get(f"{runtime.api}/length").status_code == 200  # a warm worker exists
    ports = {int(runtime.api.rsplit(":", 1)[1]), int(runtime.lambda_api.rsplit(":", 1)[1])}
    workers = psutil.Process(runtime.pid).children(recursive=True)
    assert workers
    holders = {(w.pid, c.laddr.port) for w in workers for c in w.net_connections(kind="tcp")
               if c.status == psutil.CONN_LISTEN and c.laddr.port in ports}
    assert not holders
