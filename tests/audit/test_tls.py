"""HTTPS with --tls-cert/--tls-key, and the tlsDetails its records carry.

The test makes a self-signed certificate with ``cryptography``; boto3 trusts it through
``verify=<cert path>``. tlsDetails must be what the connection really negotiated: raw TLS clients
pin the version (1.3, 1.2) and compare the record with the cipher their own socket reports.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.audit.stored import all_records, record_of
from tests.gateway.rawhttp import Request, encode, read_reply, sign
from tests.support.server import free_port
from trailpost.tls import TlsInfo, connection_extension, server_context


def make_certificate(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed EC certificate for ``localhost`` and 127.0.0.1, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TlsServer:
    """``trailpost serve`` over HTTPS on a free port with its own data directory."""

    def __init__(self, data_dir: Path, cert: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        self.data_dir, self.cert, self.port = data_dir, cert, free_port()
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"
        command = [sys.executable, "-m", "trailpost", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(data_dir), "--log-level", "warning", *args]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )
        http = urllib3.PoolManager(ca_certs=str(cert), cert_reqs="CERT_REQUIRED")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trailpost exited with {self.process.returncode}:\n{self.log()}")
            try:
                if http.request("GET", f"{self.endpoint}/_trailpost/health", timeout=1.0, retries=False).status == 200:
                    return
            except urllib3.exceptions.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"trailpost did not start:\n{self.log()}")

    @property
    def endpoint(self) -> str:
        return f"https://localhost:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def credentials(self) -> tuple[str, str]:
        text = (self.data_dir / "credentials").read_text()
        values = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
        return values["aws_access_key_id"], values["aws_secret_access_key"]

    def client(self) -> Any:
        key, secret = self.credentials()
        return boto3.session.Session().client(
            "outposts",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            verify=str(self.cert),
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("tls")
    cert, key = make_certificate(base / "pki")
    server = TlsServer(base / "data", cert, ["--tls-cert", str(cert), "--tls-key", str(key)])
    yield server
    server.stop()


def raw_call(server: TlsServer, host: str, *, maximum: ssl.TLSVersion | None = None) -> tuple[Any, tuple[str, str]]:
    """A signed ListSites over a TLS connection the test controls; the reply and the (closed) socket."""
    context = ssl.create_default_context(cafile=str(server.cert))
    context.check_hostname = False
    if maximum is not None:
        context.maximum_version = maximum
    request = sign(Request("GET", "/sites"), host, server.credentials())
    plain = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with context.wrap_socket(plain, server_hostname="localhost") as tls:
        tls.sendall(encode(request))
        reply = read_reply(tls)
        negotiated = (tls.version(), tls.cipher()[0])
    return reply, negotiated


def test_boto3_over_https_records_tls_details(tls_server: TlsServer) -> None:
    client = tls_server.client()
    response = client.create_site(Name="over-tls")
    record = record_of(tls_server.data_dir, response["ResponseMetadata"]["RequestId"])
    assert list(record)[-1] == "tlsDetails"
    details = record["tlsDetails"]
    assert list(details) == ["tlsVersion", "cipherSuite", "clientProvidedHostHeader"]
    assert details["tlsVersion"] == "TLSv1.3"
    assert details["cipherSuite"] in {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    }
    assert details["clientProvidedHostHeader"] == f"localhost:{tls_server.port}"
    assert record["sourceIPAddress"] == "127.0.0.1" and record["eventName"] == "CreateSite"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_tls_details_are_what_the_connection_negotiated(tls_server: TlsServer, version: ssl.TLSVersion) -> None:
    reply, (negotiated_version, negotiated_cipher) = raw_call(tls_server, "localhost", maximum=version)
    assert reply.status == 200
    assert negotiated_version == {"TLSv1_3": "TLSv1.3", "TLSv1_2": "TLSv1.2"}[version.name]
    details = record_of(tls_server.data_dir, reply.request_id)["tlsDetails"]
    assert details == {
        "tlsVersion": negotiated_version,
        "cipherSuite": negotiated_cipher,
        "clientProvidedHostHeader": "localhost",
    }
    if version is ssl.TLSVersion.TLSv1_2:
        assert "-" in negotiated_cipher and not negotiated_cipher.startswith("TLS_")  # OpenSSL's name, as AWS


def test_host_header_is_recorded_as_the_client_sent_it(tls_server: TlsServer) -> None:
    reply, _ = raw_call(tls_server, "outposts.us-east-1.amazonaws.com")
    assert reply.status == 200
    details = record_of(tls_server.data_dir, reply.request_id)["tlsDetails"]
    assert details["clientProvidedHostHeader"] == "outposts.us-east-1.amazonaws.com"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_protocols_before_tls_1_2_are_refused(tls_server: TlsServer) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
    plain = socket.create_connection(("127.0.0.1", tls_server.port), timeout=10)
    with plain, pytest.raises(ssl.SSLError):
        context.wrap_socket(plain, server_hostname="localhost")


def test_plain_http_on_the_tls_port_is_not_served(tls_server: TlsServer) -> None:
    before = len(all_records(tls_server.data_dir))
    request = sign(Request("GET", "/sites"), f"127.0.0.1:{tls_server.port}", tls_server.credentials())
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as plain:
        plain.sendall(encode(request))
        answer = plain.recv(65536)
    assert not answer.startswith(b"HTTP/1.1 200")
    assert len(all_records(tls_server.data_dir)) == before


def test_certificate_file_holding_the_key_and_environment_settings(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path / "pki")
    combined = tmp_path / "pki" / "combined.pem"
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    server = TlsServer(tmp_path / "data", cert, [], env={"TRAILPOST_TLS_CERT": str(combined)})
    try:
        response = server.client().list_sites()
        record = record_of(server.data_dir, response["ResponseMetadata"]["RequestId"])
        assert record["tlsDetails"]["tlsVersion"] == "TLSv1.3"
        assert f"trailpost listening on https://127.0.0.1:{server.port}" in server.log()
    finally:
        server.stop()


def serve_fails(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "trailpost", "serve", "--port", str(free_port())]
    command += ["--data-dir", str(tmp_path / "data"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_unusable_certificates_stop_the_start(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path / "a")
    _, other_key = make_certificate(tmp_path / "b")
    missing = serve_fails(tmp_path, "--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(key))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    mismatched = serve_fails(tmp_path, "--tls-cert", str(cert), "--tls-key", str(other_key))
    assert mismatched.returncode == 1 and "cannot use the TLS certificate" in mismatched.stderr
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    unreadable = serve_fails(tmp_path, "--tls-cert", str(garbage))
    assert unreadable.returncode == 1 and "cannot use the TLS certificate" in unreadable.stderr
    key_only = serve_fails(tmp_path, "--tls-key", str(key))
    assert key_only.returncode == 2 and "--tls-key" in key_only.stderr
    assert not (tmp_path / "data").exists()


# -- the ASGI tls extension the protocol hands to the gateway -------------------------------------


def test_connection_extension_has_the_asgi_numbers_and_the_names(tmp_path: Path) -> None:
    """A real handshake in-process: the extension carries IANA numbers and OpenSSL names that agree."""
    cert, key = make_certificate(tmp_path)
    server_side, client_side = socket.socketpair()
    client_context = ssl.create_default_context(cafile=str(cert))
    client_context.maximum_version = ssl.TLSVersion.TLSv1_2
    done: dict[str, Any] = {}

    def handshake() -> None:
        done["server"] = server_context(cert, key).wrap_socket(server_side, server_side=True)

    thread = threading.Thread(target=handshake)
    thread.start()
    with client_context.wrap_socket(client_side, server_hostname="localhost") as tls_client:
        thread.join(10)
        extension = connection_extension(done["server"])
        assert extension is not None
        assert extension["tls_version"] == 0x0303 and extension["tls_version_name"] == "TLSv1.2"
        assert extension["cipher_suite_name"] == tls_client.cipher()[0]
        assert isinstance(extension["cipher_suite"], int) and 0 < extension["cipher_suite"] <= 0xFFFF
        assert (extension["server_cert"], extension["client_cert_chain"]) == (None, [])
        names_only = {k: v for k, v in extension.items() if k not in ("tls_version", "cipher_suite")}
        numbers_only = {k: v for k, v in extension.items() if not k.endswith("_name")}
        expected = TlsInfo("TLSv1.2", tls_client.cipher()[0])
        assert TlsInfo.from_extension(names_only) == TlsInfo.from_extension(numbers_only) == expected
    done["server"].close()
    assert connection_extension(None) is None and TlsInfo.from_extension(None) is None
    assert TlsInfo.from_extension({"tls_version": 0x0304, "cipher_suite": 0x1301}) == TlsInfo(
        "TLSv1.3", "TLS_AES_128_GCM_SHA256"
    )
