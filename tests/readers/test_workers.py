"""``trailpost serve --workers 2``: two reader processes on one port and the writer behind them.

Connections are spread over the readers by the kernel (``SO_REUSEPORT``), so each call here is made
on a new connection and the checks hold whichever process answered; the readers' health counters
show that they really answered reads themselves and handed writes over.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.support.server import ServerProcess

CALLS = 40


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("workers") / "data", args=["--workers", "2"]).start()
    yield proc
    proc.stop()


def health(server: ServerProcess) -> dict[str, Any]:
    """The health answer on a new connection (from whichever process the kernel picks)."""
    http = urllib3.PoolManager()
    try:
        return orjson.loads(http.request("GET", f"{server.endpoint}/_trailpost/health", retries=False).data)
    finally:
        http.clear()


def reader_totals(server: ServerProcess, readers: int = 2) -> dict[str, int]:
    """Records sent and calls forwarded, summed over every reader (each asked on new connections)."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(400):
        answer = health(server)
        seen[answer["process"]] = answer
        if len(seen) == readers:
            return {key: sum(a[key] for a in seen.values()) for key in ("recorded", "forwarded")}
    raise AssertionError(f"only {sorted(seen)} answered in 400 connections")


def fresh(client: Any) -> Any:
    """``client`` with its connections closed: its next call opens a new one."""
    client._endpoint.http_session.close()
    return client


def all_events(server: ServerProcess, name: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    cloudtrail = server.client("cloudtrail", region=region)
    events, token = [], None
    while True:
        page = cloudtrail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
            MaxResults=50,
            **({"NextToken": token} if token else {}),
        )
        events += page["Events"]
        token = page.get("NextToken")
        if not token:
            return events


def test_the_readers_answer_on_the_one_port_and_the_writer_does_not(pair: ServerProcess) -> None:
    seen = {health(pair)["process"] for _ in range(60)}
    assert seen == {"reader-1", "reader-2"}


def test_reads_answered_by_the_reader_are_recorded_once_and_durable(pair: ServerProcess) -> None:
    outposts = pair.client("outposts")
    site = outposts.create_site(Name="read-here")["Site"]
    before = reader_totals(pair)
    for _ in range(CALLS):
        assert fresh(outposts).get_site(SiteId=site["SiteId"])["Site"]["Name"] == "read-here"
    after = reader_totals(pair)
    assert after["recorded"] > before["recorded"]  # the reader answered some GetSite calls itself
    events = [e for e in all_events(pair, "GetSite") if site["SiteId"] in e["CloudTrailEvent"]]
    assert len(events) == CALLS
    assert len({e["EventId"] for e in events}) == CALLS


def test_writes_reaching_the_reader_are_answered_by_the_writer(pair: ServerProcess) -> None:
    outposts = pair.client("outposts", region="eu-west-1")
    before = reader_totals(pair)
    made = [fresh(outposts).create_site(Name=f"w{i}")["Site"]["SiteId"] for i in range(20)]
    after = reader_totals(pair)
    assert after["forwarded"] > before["forwarded"]
    listed = {s["SiteId"] for s in outposts.list_sites()["Sites"]}
    assert set(made) <= listed and len(set(made)) == 20
    created = all_events(pair, "CreateSite", region="eu-west-1")
    assert len(created) == 20


def test_a_malformed_write_goes_to_the_writer_unparsed_and_is_recorded_once(pair: ServerProcess) -> None:
    outposts = pair.client("outposts", region="ca-central-1", parameter_validation=False)
    before = reader_totals(pair)
    for _ in range(10):
        with pytest.raises(ClientError) as caught:
            fresh(outposts).create_site(Name="")  # shorter than the model's minimum
        assert caught.value.response["Error"]["Code"] == "ValidationException"
    after = reader_totals(pair)
    # The readers routed each call, saw a write and handed it over before parsing it: the writer
    # answered and recorded every one.
    assert after["forwarded"] - before["forwarded"] == 10
    assert after["recorded"] == before["recorded"]
    failed = [orjson.loads(e["CloudTrailEvent"]) for e in all_events(pair, "CreateSite", region="ca-central-1")]
    assert len(failed) == 10
    assert {r["errorCode"] for r in failed} == {"ValidationException"}


def test_a_write_is_seen_by_the_next_read_whichever_process_answers(pair: ServerProcess) -> None:
    outposts = pair.client("outposts", region="ap-south-1")
    for i in range(15):
        site_id = fresh(outposts).create_site(Name=f"ryw{i}")["Site"]["SiteId"]
        assert fresh(outposts).get_site(SiteId=site_id)["Site"]["SiteId"] == site_id
        assert site_id in {s["SiteId"] for s in fresh(outposts).list_sites()["Sites"]}


def test_pagination_tokens_work_across_the_processes(pair: ServerProcess) -> None:
    outposts = pair.client("outposts", region="us-west-2")
    made = {outposts.create_site(Name=f"p{i}")["Site"]["SiteId"] for i in range(6)}
    seen, token = [], None
    while True:
        page = fresh(outposts).list_sites(MaxResults=1, **({"NextToken": token} if token else {}))
        seen += [s["SiteId"] for s in page["Sites"]]
        token = page.get("NextToken")
        if not token:
            break
    assert set(seen) == made and len(seen) == 6


def test_a_deactivated_key_is_refused_by_every_process_at_once(pair: ServerProcess) -> None:
    iam = pair.client("iam")
    iam.create_user(UserName="worker-user")
    iam.attach_user_policy(UserName="worker-user", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="worker-user")["AccessKey"]
    user = pair.client("outposts", credentials=(key["AccessKeyId"], key["SecretAccessKey"]))
    for _ in range(10):
        fresh(user).list_sites()  # both processes now hold the key in their caches
    iam.update_access_key(UserName="worker-user", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    for _ in range(20):
        with pytest.raises(ClientError) as refused:
            fresh(user).list_sites()
        assert refused.value.response["Error"]["Code"] in ("InvalidSignatureException", "UnrecognizedClientException")


def test_a_policy_change_applies_in_every_process_at_once(pair: ServerProcess) -> None:
    iam = pair.client("iam")
    iam.create_user(UserName="policy-user")
    iam.attach_user_policy(UserName="policy-user", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="policy-user")["AccessKey"]
    user = pair.client("outposts", credentials=(key["AccessKeyId"], key["SecretAccessKey"]))
    for _ in range(10):
        fresh(user).list_sites()
    iam.detach_user_policy(UserName="policy-user", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    for _ in range(20):
        with pytest.raises(ClientError) as refused:
            fresh(user).list_sites()
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_console_answers_through_a_reader(pair: ServerProcess) -> None:
    http = urllib3.PoolManager()
    for _ in range(10):
        response = http.request("GET", f"{pair.endpoint}/console/", retries=False, redirect=False)
        http.clear()
        assert response.status in (200, 302, 303)


def test_a_killed_reader_is_started_again(tmp_path: Any) -> None:
    server = ServerProcess(tmp_path / "data", args=["--workers", "2"]).start()
    try:
        readers = _reader_pids(server)
        assert len(readers) == 2
        os.kill(readers[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(_reader_pids(server)) < 2 or readers[0] in _reader_pids(server)):
            time.sleep(0.1)
        assert len(_reader_pids(server)) == 2 and readers[0] not in _reader_pids(server)
        assert reader_totals(server)["recorded"] >= 0  # both readers answer again
        outposts = server.client("outposts")
        for _ in range(10):
            fresh(outposts).list_sites()
        assert "exited with -9; starting it again" in server.log()
    finally:
        assert server.stop() == 0


def test_sigterm_stops_the_writer_and_its_readers(tmp_path: Any) -> None:
    server = ServerProcess(tmp_path / "data", args=["--workers", "3"]).start()
    try:
        readers = _reader_pids(server)
        assert len(readers) == 3
    finally:
        assert server.stop() == 0
    for pid in readers:
        assert not _alive(pid)


def test_a_reader_stops_when_the_writer_dies(tmp_path: Any) -> None:
    server = ServerProcess(tmp_path / "data", args=["--workers", "2"]).start()
    readers = _reader_pids(server)
    server.stop(signal.SIGKILL)
    assert len(readers) == 2
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in readers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in readers)


def test_a_port_held_by_another_program_is_a_startup_error(tmp_path: Any) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        server = ServerProcess(tmp_path / "data", port=held.getsockname()[1], args=["--workers", "2"])
        with pytest.raises(RuntimeError, match="cannot listen on"):
            server.start()


def _reader_pids(server: ServerProcess) -> list[int]:
    assert server.process is not None
    children = f"/proc/{server.process.pid}/task/{server.process.pid}/children"
    with open(children) as listing:
        return [int(pid) for pid in listing.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_lookup_throttling_holds_across_the_processes(tmp_path: Any) -> None:
    """With --lookup-rate-limit every LookupEvents goes to the writer, whose bucket is the only one:
    at 1 call per second, 12 calls in well under two seconds get at most 2 answers, whichever process
    each connection reaches."""
    server = ServerProcess(tmp_path / "data", args=["--workers", "2", "--lookup-rate-limit", "1"]).start()
    try:
        cloudtrail = server.client("cloudtrail")
        answered, throttled, started = 0, 0, time.monotonic()
        for _ in range(12):
            try:
                fresh(cloudtrail).lookup_events(MaxResults=1)
                answered += 1
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ThrottlingException"
                throttled += 1
        elapsed = time.monotonic() - started
        assert answered <= 1 + int(elapsed) + 1 and throttled >= 12 - answered
        assert reader_totals(server)["forwarded"] >= 12
    finally:
        server.stop()


def test_the_writer_link_is_private_to_the_user(pair: ServerProcess) -> None:
    """Readers hand the writer records and pre-verified requests: only this user may reach the link."""
    assert pair.process is not None
    reader = _reader_pids(pair)[0]
    with open(f"/proc/{reader}/cmdline") as cmdline:
        link = cmdline.read().split("\0")[4]  # python -m trailpost.readers.process <fd> <link> ...
    directory = os.path.dirname(link)
    assert os.stat(directory).st_mode & 0o777 == 0o700
    assert os.path.exists(link)


def test_s3_objects_travel_through_the_readers_whole(pair: ServerProcess) -> None:
    """S3 calls are the writer's: bodies of megabytes go through a reader to it and back intact."""
    s3 = pair.client("s3")
    s3.create_bucket(Bucket="workers-bucket")
    body = os.urandom(3 * 1024 * 1024)
    for index in range(6):
        fresh(s3).put_object(Bucket="workers-bucket", Key=f"k{index}", Body=body)
        assert fresh(s3).get_object(Bucket="workers-bucket", Key=f"k{index}")["Body"].read() == body


def test_https_through_the_readers_keeps_tls_details(tmp_path: Any) -> None:
    """With --tls-cert the readers serve HTTPS; reads (answered there) and writes (handed to the
    writer) are recorded with the TLS facts of the client's own connection."""
    from tests.audit.stored import record_of
    from tests.audit.test_tls import TlsServer, make_certificate

    cert, key = make_certificate(tmp_path / "pki")
    server = TlsServer(tmp_path / "data", cert, ["--tls-cert", str(cert), "--tls-key", str(key), "--workers", "2"])
    try:
        outposts = server.client()
        for index in range(8):
            made = fresh(outposts).create_site(Name=f"tls{index}")
            read = fresh(outposts).get_site(SiteId=made["Site"]["SiteId"])
            for answer in (made, read):
                record = record_of(server.data_dir, answer["ResponseMetadata"]["RequestId"])
                assert record["tlsDetails"]["tlsVersion"].startswith("TLSv1.")
                assert record["tlsDetails"]["cipherSuite"]
    finally:
        server.stop()
