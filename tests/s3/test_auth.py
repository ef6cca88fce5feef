"""S3 authentication: payload hashes, aws-chunked uploads (unsigned trailers as boto3 sends them
over TLS, signed chunks and signed trailers built by hand), presigned URLs with urllib,
virtual-hosted requests, and S3's XML errors for bad or missing signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.server import ServerProcess


def _send(
    server: ServerProcess, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(f"{server.endpoint}{path}", data=body or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


class _FixedPayloadAuth(S3SigV4Auth):
    """botocore's S3 signer with a chosen ``x-amz-content-sha256`` (UNSIGNED-PAYLOAD, STREAMING-...)."""

    def __init__(self, credentials: Credentials, payload: str) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self._payload = payload

    def payload(self, request: Any) -> str:
        return self._payload


def _signed(
    server: ServerProcess,
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    payload: str | None = None,
) -> dict[str, str]:
    key, secret = server.root_credentials()
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    credentials = Credentials(key, secret)
    signer = S3SigV4Auth(credentials, "s3", "us-east-1") if payload is None else _FixedPayloadAuth(credentials, payload)
    signer.add_auth(request)
    return dict(request.headers.items())


def test_payload_hash_must_match_body(server: ServerProcess, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}/k"
    headers = _signed(server, "PUT", url, b"real body")
    status, body, _ = _send(server, "PUT", f"/{bucket}/k", headers, b"other body")
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    headers = _signed(server, "PUT", url, b"unsigned", payload="UNSIGNED-PAYLOAD")
    status, _, _ = _send(server, "PUT", f"/{bucket}/k", headers, b"unsigned")
    assert status == 200


def test_bad_and_missing_signatures_answer_s3_xml(server: ServerProcess, bucket: str) -> None:
    status, body, headers = _send(server, "GET", f"/{bucket}", {})
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and headers["content-type"] == "application/xml"
    wrong = server.client("s3", credentials=(server.root_credentials()[0], "not-the-secret"))
    with pytest.raises(wrong.exceptions.ClientError) as info:
        wrong.list_objects_v2(Bucket=bucket)
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown = server.client("s3", credentials=("AKIAUNKNOWNKEY000000", "secret"))
    with pytest.raises(unknown.exceptions.ClientError) as info:
        unknown.list_buckets()
    assert info.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def _chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, data: bytes) -> str:
    text = "\n".join(
        (
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            scope,
            previous,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )
    )
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _signing_key(secret: str, date: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@pytest.mark.parametrize("trailer", [False, True])
def test_signed_aws_chunked_upload(server: ServerProcess, s3: Any, bucket: str, trailer: bool) -> None:
    data = [b"a" * 70000, b"tail"]
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" if trailer else "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    extra = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(sum(map(len, data)))}
    if trailer:
        extra["X-Amz-Trailer"] = "x-amz-checksum-crc32"
    headers = _signed(server, "PUT", f"{server.endpoint}/{bucket}/chunked", headers=extra, payload=mode)
    _, secret = server.root_credentials()
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = _signing_key(secret, amz_date[:8])
    previous = headers["Authorization"].rsplit("Signature=", 1)[1]
    body = b""
    for chunk in [*data, b""]:
        previous = _chunk_signature(key, amz_date, scope, previous, chunk)
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + (b"\r\n" if chunk else b"")
    if trailer:
        crc = base64.b64encode(zlib.crc32(b"".join(data)).to_bytes(4, "big")).decode()
        line = f"x-amz-checksum-crc32:{crc}\n"
        text = "\n".join(
            ("AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, hashlib.sha256(line.encode()).hexdigest())
        )
        signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        body += f"x-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{signature}\r\n\r\n".encode()
    else:
        body += b"\r\n"
    status, answer, _ = _send(server, "PUT", f"/{bucket}/chunked", headers, body)
    assert status == 200, answer
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(data)
    tampered = body.replace(b"tail", b"TAIL")
    status, answer, _ = _send(server, "PUT", f"/{bucket}/chunked", headers, tampered)
    assert status == 403 and b"SignatureDoesNotMatch" in answer


def test_boto3_trailer_checksum_upload_over_tls(tmp_path: Path) -> None:
    """Over https boto3 1.44 sends put_object as STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer."""
    from tests.audit.test_tls import TlsServer, make_certificate  # the TLS tests' server and certificate

    cert, key = make_certificate(tmp_path / "pki")
    server = TlsServer(tmp_path / "data", cert, ["--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        access, secret = server.credentials()
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            verify=str(cert),
        )
        sent: list[dict[str, Any]] = []
        client.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers)))
        client.create_bucket(Bucket="tls-chunked")
        client.put_object(Bucket="tls-chunked", Key="k", Body=b"x" * 100000)
        assert sent[0]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert sent[0]["X-Amz-Trailer"] == b"x-amz-checksum-crc32"
        got = client.get_object(Bucket="tls-chunked", Key="k", ChecksumMode="ENABLED")
        assert got["Body"].read() == b"x" * 100000
        assert got["ChecksumCRC32"] == base64.b64encode(zlib.crc32(b"x" * 100000).to_bytes(4, "big")).decode()
    finally:
        server.stop()


def test_presigned_get_and_put(server: ServerProcess, bucket: str) -> None:
    s3 = server.client("s3", signature_version="s3v4")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=60)
    status, _, _ = _send(server, "PUT", put_url[len(server.endpoint) :], {}, b"presigned body")
    assert status == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=60)
    with urllib.request.urlopen(get_url, timeout=10) as response:
        assert response.read() == b"presigned body"
    status, body, _ = _send(server, "GET", get_url[len(server.endpoint) :].replace("Signature=", "Signature=0"), {})
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_presigned_url_expires(server: ServerProcess, bucket: str) -> None:
    s3 = server.client("s3", signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="k", Body=b"soon gone")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body, _ = _send(server, "GET", url[len(server.endpoint) :], {})
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body


def test_virtual_hosted_requests(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=b"virtual")
    host = f"{bucket}.s3.localhost:{server.port}"
    headers = _signed(server, "GET", f"http://{host}/dir/file.txt", headers={"Host": host})
    status, body, _ = _send(server, "GET", "/dir/file.txt", headers)
    assert status == 200 and body == b"virtual"
    host = f"{bucket}.localhost:{server.port}"
    headers = _signed(server, "GET", f"http://{host}/?list-type=2", headers={"Host": host})
    status, body, _ = _send(server, "GET", "/?list-type=2", headers)
    assert status == 200 and b"<Key>dir/file.txt</Key>" in body
