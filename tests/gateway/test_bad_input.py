"""Bad input at the HTTP edge: every malformed request gets the AWS error a client expects (code,
status, ``x-amzn-RequestId``, a JSON body botocore parses), never a traceback or a hang, and the
server keeps serving. Nothing a request says makes the server write outside its data directory.

Requests are built byte by byte (``rawhttp``) and, unless the test is about authentication,
signed correctly with botocore's ``SigV4Auth``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.rawhttp import Reply, Request, encode, exchange, read_reply, send, sign
from tests.support.server import ServerProcess

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SMALL_LIMIT = 2048


def expect_error(reply: Reply, code: str, status: int) -> str:
    """Check an AWS error reply as botocore reads it; return its message."""
    parsed = reply.parsed()
    assert reply.status == status, (reply.status, reply.body)
    assert parsed["Error"]["Code"] == code, parsed
    assert json.loads(reply.body)["__type"] == code
    assert reply.request_id and UUID.match(reply.request_id), reply.headers
    assert parsed["ResponseMetadata"]["RequestId"] == reply.request_id
    return str(parsed["Error"]["Message"])


@pytest.fixture
def still_serving(outposts: Any) -> Any:
    """After the test, an ordinary boto3 call on the same server must still work."""
    yield outposts
    assert outposts.list_sites(MaxResults=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.fixture
def signer(server: ServerProcess) -> Any:
    """Signs a request as the shared server's root user."""
    credentials = server.root_credentials()
    return lambda request, **options: sign(request, f"127.0.0.1:{server.port}", credentials, **options)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A dedicated server with a 2 KiB body limit."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("small") / "data", env={"TRAILPOST_MAX_BODY_BYTES": str(SMALL_LIMIT)}
    ).start()
    yield proc
    proc.stop()


def create_site(name: str, **headers: str) -> Request:
    body = json.dumps({"Name": name}).encode()
    return Request("POST", "/sites", "", {"Content-Type": "application/json", **headers}, body)


def site_names(client: Any) -> set[str]:
    return {site["Name"] for page in client.get_paginator("list_sites").paginate() for site in page["Sites"]}


def delete_named(client: Any, name: str) -> None:
    """Remove the test's site again: the shared server's per-account site quota is shared by every test."""
    for page in client.get_paginator("list_sites").paginate():
        for site in page["Sites"]:
            if site["Name"] == name:
                client.delete_site(SiteId=site["SiteId"])


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


# -- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"Name": "x"', b"[1, 2]", b'"just a string"', b'{"Name": "\xff\xfe"}', b"\x00\x01", b"{" * 5000 + b"}" * 5000],
)
def test_malformed_json(server: ServerProcess, signer: Any, body: bytes, still_serving: Any) -> None:
    request = signer(Request("POST", "/sites", "", {"Content-Type": "application/json"}, body))
    expect_error(send(server.port, request), "SerializationException", 400)


def test_json_of_the_wrong_shape(server: ServerProcess, signer: Any, still_serving: Any) -> None:
    request = signer(Request("POST", "/sites", "", {"Content-Type": "application/json"}, b'{"Name": 5}'))
    expect_error(send(server.port, request), "SerializationException", 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_wrong_content_type(server: ServerProcess, signer: Any, content_type: str, still_serving: Any) -> None:
    name = f"ct-{uuid.uuid4().hex[:8]}"
    expect_error(
        send(server.port, signer(create_site(name, **{"Content-Type": content_type}))),
        "UnsupportedMediaTypeException",
        415,
    )
    assert name not in site_names(still_serving)


def test_missing_content_type_is_read_as_json(server: ServerProcess, signer: Any, outposts: Any) -> None:
    name = f"noct-{uuid.uuid4().hex[:8]}"
    request = create_site(name)
    del request.headers["Content-Type"]
    assert send(server.port, signer(request)).status == 200
    assert name in site_names(outposts)
    delete_named(outposts, name)


def test_body_over_the_limit_by_content_length(small: ServerProcess) -> None:
    request = sign(create_site("x" * 3000), f"127.0.0.1:{small.port}", small.root_credentials())
    message = expect_error(send(small.port, request), "RequestEntityTooLargeException", 413)
    assert str(SMALL_LIMIT) in message
    small.client("outposts").list_sites()


def test_declared_oversized_body_with_expect_continue_is_refused_before_it_is_sent(
    server: ServerProcess, signer: Any, still_serving: Any
) -> None:
    """17 MiB declared: 413 at once, no ``100 Continue``, and the connection is closed."""
    request = signer(Request("POST", "/sites", "", {"Content-Type": "application/json", "Expect": "100-continue"}))
    request.headers["Content-Length"] = str(17 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(encode(request, content_length=False))
        raw = read_all(sock)  # returns only because the server closes the connection
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:200]
    assert b"100 Continue" not in raw
    assert b'"__type":"RequestEntityTooLargeException"' in raw


def test_chunked_body_over_the_limit(small: ServerProcess) -> None:
    """No Content-Length: the server stops reading once the chunks pass the limit."""
    request = sign(
        Request("POST", "/sites", "", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}),
        f"127.0.0.1:{small.port}",
        small.root_credentials(),
    )
    with socket.create_connection(("127.0.0.1", small.port), timeout=10) as sock:
        sock.sendall(encode(request, content_length=False))
        try:
            for _ in range(100):  # up to 100 KiB, far past the limit
                sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
                time.sleep(0.002)
        except OSError:
            pass  # the server has answered and closed
        reply = read_reply(sock, "POST")
    expect_error(reply, "RequestEntityTooLargeException", 413)
    assert reply.headers.get("connection") == "close"
    small.client("outposts").list_sites()


def test_chunked_body_under_the_limit(small: ServerProcess) -> None:
    name = f"chunked-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"Name": name}).encode()
    request = sign(
        Request("POST", "/sites", "", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, body),
        f"127.0.0.1:{small.port}",
        small.root_credentials(),
    )
    chunks = b"".join(b"%x\r\n%s\r\n" % (1, body[i : i + 1]) for i in range(len(body))) + b"0\r\n\r\n"
    wire = encode(Request("POST", "/sites", "", request.headers), content_length=False) + chunks
    assert exchange(small.port, wire, "POST").status == 200
    assert name in site_names(small.client("outposts"))


def test_expect_continue_under_the_limit(server: ServerProcess, signer: Any, outposts: Any) -> None:
    name = f"expect-{uuid.uuid4().hex[:8]}"
    head, _, body = encode(signer(create_site(name, Expect="100-continue"))).partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert read_reply(sock, "POST").status == 200
    assert name in site_names(outposts)
    delete_named(outposts, name)


def test_client_disconnecting_mid_body_executes_nothing(server: ServerProcess, signer: Any, outposts: Any) -> None:
    name = f"partial-{uuid.uuid4().hex[:8]}"
    request = signer(create_site(name))
    request.headers["Content-Length"] = str(len(request.body) + 20)  # complete JSON, but the body is cut short
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(encode(request, content_length=False))
    time.sleep(0.3)
    assert name not in site_names(outposts)


# -- routes and targets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("PATCH", "/sites"), ("POST", "/"), ("GET", "/sites//x"), ("GET", "/sites/x/y/z/w")],
)
def test_unknown_route(server: ServerProcess, signer: Any, method: str, path: str, still_serving: Any) -> None:
    expect_error(send(server.port, signer(Request(method, path))), "UnknownOperationException", 404)


def test_an_x_amz_target_does_not_route_a_rest_json_service(
    server: ServerProcess, signer: Any, still_serving: Any
) -> None:
    request = signer(Request("POST", "/", "", {"X-Amz-Target": "OutpostsService.ListSites"}, b"{}"))
    expect_error(send(server.port, request), "UnknownOperationException", 404)


@pytest.mark.parametrize("path", ["/sites/..", "/sites/.", "/sites/%2E%2E", "/sites/..%2F..%2Fetc%2Fpasswd"])
def test_dot_segments_are_labels_not_traversal(
    server: ServerProcess, signer: Any, path: str, still_serving: Any
) -> None:
    """A dot segment reaches the model as an id and fails its pattern; it never moves the route."""
    message = expect_error(send(server.port, signer(Request("GET", path))), "ValidationException", 400)
    assert "siteId" in message


def test_dot_segments_do_not_reach_another_route(server: ServerProcess, signer: Any, still_serving: Any) -> None:
    expect_error(send(server.port, signer(Request("GET", "/outposts/../sites"))), "UnknownOperationException", 404)


# -- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/sites/os-%zz", ""),
        ("/sites/os-%", ""),
        ("/sites/%FF%FE", ""),
        ("/sites", "MaxResults=%zz"),
        ("/sites", "OperatingAddressCityFilter=%C3%28"),
        ("/sites", "OperatingAddressCityFilter=a%"),
    ],
)
def test_invalid_percent_encoding(
    server: ServerProcess, signer: Any, path: str, query: str, still_serving: Any
) -> None:
    expect_error(send(server.port, signer(Request("GET", path, query))), "SerializationException", 400)


@pytest.mark.parametrize(
    "target", [b"/sit\xc3\xa9s", b"/sites?City=\xff", b"/sites?a=b\x01c", b"/si tes HTTP/1.1 x", b"/sites\x7f"]
)
def test_raw_bytes_in_the_request_target(server: ServerProcess, target: bytes, still_serving: Any) -> None:
    reply = exchange(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    expect_error(reply, "SerializationException", 400)


def test_non_utf8_header_values(server: ServerProcess, signer: Any, still_serving: Any) -> None:
    """Latin-1 bytes in unsigned headers (user agent, target, content type) are just bytes."""
    request = signer(Request("GET", "/sites", "MaxResults=1"))
    request.headers.update({"User-Agent": "\xff\xfe bot", "X-Amz-Target": "\xe9\xe8", "Accept": "\xff"})
    assert send(server.port, request).status == 200


def test_non_utf8_authorization(server: ServerProcess, still_serving: Any) -> None:
    reply = exchange(server.port, b"GET /sites HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\xfe\xfd\r\n\r\n")
    expect_error(reply, "IncompleteSignatureException", 400)


def test_control_bytes_in_a_header(server: ServerProcess, still_serving: Any) -> None:
    reply = exchange(server.port, b"GET /sites HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n")
    expect_error(reply, "SerializationException", 400)


def test_garbage_instead_of_http(server: ServerProcess, still_serving: Any) -> None:
    expect_error(
        exchange(server.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64),
        "SerializationException",
        400,
    )


# -- methods -----------------------------------------------------------------------------------


def test_head_gets_the_error_headers_without_a_body(server: ServerProcess, signer: Any, still_serving: Any) -> None:
    reply = send(server.port, signer(Request("HEAD", "/sites")))
    assert reply.status == 404
    assert reply.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert UUID.match(reply.headers["x-amzn-RequestId"])
    assert reply.body == b""
    assert int(reply.headers["Content-Length"]) > 0


def test_unsigned_head(server: ServerProcess, still_serving: Any) -> None:
    reply = send(server.port, Request("HEAD", "/sites", "", {"Host": "x"}))
    assert (reply.status, reply.headers["x-amzn-ErrorType"], reply.body) == (
        403,
        "MissingAuthenticationTokenException",
        b"",
    )


def test_cors_preflight(server: ServerProcess, still_serving: Any) -> None:
    headers = {
        "Host": "x",
        "Origin": "http://console.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-date,x-amz-user-agent",
    }
    reply = send(server.port, Request("OPTIONS", "/sites", "", headers))
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "http://console.example"
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert reply.headers["Access-Control-Allow-Headers"] == headers["Access-Control-Request-Headers"]
    assert UUID.match(reply.headers["x-amzn-RequestId"])


def test_cors_response_headers(server: ServerProcess, signer: Any) -> None:
    reply = send(server.port, signer(Request("GET", "/sites", "MaxResults=1", {"Origin": "http://console.example"})))
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-RequestId" in reply.headers["Access-Control-Expose-Headers"]


def test_options_without_preflight_needs_authentication(server: ServerProcess, still_serving: Any) -> None:
    reply = send(server.port, Request("OPTIONS", "/sites", "", {"Host": "x"}))
    expect_error(reply, "MissingAuthenticationTokenException", 403)


# -- keep-alive survives errors ----------------------------------------------------------------


def test_errors_keep_the_connection_usable(server: ServerProcess, signer: Any) -> None:
    """Several bad requests and then a good one on one keep-alive connection."""
    bad = [
        signer(Request("POST", "/sites", "", {"Content-Type": "application/json"}, b"{oops")),
        signer(Request("GET", "/nowhere")),
        Request("GET", "/sites", "", {"Host": "x"}),
        signer(Request("GET", "/sites/os-%zz")),
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for request in bad:
            sock.sendall(encode(request))
            assert read_reply(sock, request.method).status >= 400
        sock.sendall(encode(signer(Request("GET", "/sites", "MaxResults=1"))))
        assert read_reply(sock).status == 200


# -- the data directory ------------------------------------------------------------------------


def tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_mode for p in root.rglob("*")}


def test_nothing_is_written_outside_the_data_dir(make_server: Any, tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    proc = make_server(data_dir=tmp_path / "srv" / "data")
    data = proc.data_dir
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "credentials").st_mode) == 0o600
    outside = {k: v for k, v in tree(tmp_path).items() if not k.startswith("srv/data/")}
    credentials = proc.root_credentials()
    hostport = f"127.0.0.1:{proc.port}"
    traversals = ["../../escape", "..%2F..%2Fescape", "%2E%2E/%2E%2E/escape", "/etc/passwd", "~/.aws/credentials"]
    client = proc.client("outposts")
    for text in traversals:
        client.create_site(Name=text[:50], Tags={"path": text}, Notes=text)
        send(proc.port, sign(Request("GET", f"/sites/{text}"), hostport, credentials))
        send(proc.port, sign(Request("GET", "/sites", f"OperatingAddressCityFilter={text}"), hostport, credentials))
        send(proc.port, sign(Request("GET", f"/../../{text}"), hostport, credentials))
    assert {k: v for k, v in tree(tmp_path).items() if not k.startswith("srv/data/")} == outside
    assert not (tmp_path / "escape").exists() and not (tmp_path / "srv" / "escape").exists()
    for path in data.rglob("*"):
        assert path.is_file() and not path.is_symlink(), path
    malformed = [
        b"GET /sit\xc3\xa9s HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /sites HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\r\n\r\n",
        encode(sign(Request("POST", "/sites", "", {"Content-Type": "application/json"}, b"{x"), hostport, credentials)),
        encode(sign(Request("GET", "/sites/%zz"), hostport, credentials)),
    ]
    for wire in malformed:
        assert exchange(proc.port, wire).status == 400
    assert "Traceback" not in proc.log(), proc.log()
