"""``trailpost events lookup|tail|download`` run as real subprocesses against a real server, over the API.

The commands get their credentials the way users give them (the server's generated credentials
file as AWS_SHARED_CREDENTIALS_FILE, or a named profile) and never the data directory's database.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess, free_port

TRAILPOST = [sys.executable, "-m", "trailpost", "events"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of this module's own, so its history holds only what these tests make."""
    proc = ServerProcess(tmp_path_factory.mktemp("events-cli") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def env(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("events-cli-home")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TRAILPOST_ENDPOINT_URL": server.endpoint,
    }


@pytest.fixture(scope="module")
def sites(server: ServerProcess) -> list[dict[str, Any]]:
    """Two sites, created one after the other."""
    outposts = server.client("outposts")
    made = [outposts.create_site(Name=f"CLI history {index}")["Site"] for index in range(2)]
    time.sleep(1.1)  # the next events are in a later second than these
    return made


def run(env: dict[str, str], *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRAILPOST, *args], env={**env, **(extra or {})}, capture_output=True, text=True, timeout=120, check=False
    )


def ok(env: dict[str, str], *args: str, **kwargs: Any) -> str:
    result = run(env, *args, **kwargs)
    assert result.returncode == 0, f"trailpost events {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


def test_lookup_table(env: dict[str, str], sites: list[dict[str, Any]]) -> None:
    lines = ok(env, "lookup", "--event-name", "CreateSite").splitlines()
    assert lines[0].split() == [
        "Event",
        "time",
        "Event",
        "name",
        "User",
        "name",
        "Event",
        "source",
        "Resource",
        "type",
        "Resource",
        "name",
    ]
    rows = [line.split() for line in lines[1:]]
    order = [row[-1] for row in rows]
    assert order.index(sites[1]["SiteId"]) < order.index(sites[0]["SiteId"])  # newest first
    for row in rows:
        assert row[1:5] == ["CreateSite", "root", "outposts.amazonaws.com", "AWS::Outposts::Site"]
        assert row[0].endswith("Z") and row[0][:2] == "20"


def test_lookup_json(env: dict[str, str], sites: list[dict[str, Any]]) -> None:
    out = json.loads(ok(env, "lookup", "--resource-name", sites[0]["SiteId"], "--output", "json"))
    [event] = out["Events"]
    assert event["EventName"] == "CreateSite" and event["ReadOnly"] == "false"
    assert event["Resources"] == [{"ResourceType": "AWS::Outposts::Site", "ResourceName": sites[0]["SiteId"]}]
    assert event["EventTime"].endswith("Z")
    assert json.loads(event["CloudTrailEvent"])["responseElements"]["Site"]["SiteId"] == sites[0]["SiteId"]


def test_lookup_csv(env: dict[str, str], sites: list[dict[str, Any]]) -> None:
    rows = list(csv.DictReader(io.StringIO(ok(env, "lookup", "--event-name", "CreateSite", "--output", "csv"))))
    order = [row["Resource name"] for row in rows]
    assert order.index(sites[1]["SiteId"]) < order.index(sites[0]["SiteId"])
    row = rows[order.index(sites[0]["SiteId"])]
    assert (row["Event name"], row["User name"], row["Read-only"], row["AWS region"]) == (
        "CreateSite",
        "root",
        "false",
        "us-east-1",
    )
    assert row["Event ID"] and row["Request ID"] and row["AWS access key"].startswith("AKIA")
    assert row["Error code"] == "" and row["Source IP address"] == "127.0.0.1"


def test_lookup_relative_and_absolute_times(env: dict[str, str], sites: list[dict[str, Any]]) -> None:
    def names(*args: str) -> list[str]:
        return [line.split()[-1] for line in ok(env, "lookup", "--event-name", "CreateSite", *args).splitlines()[1:]]

    expected = {sites[1]["SiteId"], sites[0]["SiteId"]}
    assert expected <= set(names("--start-time", "-1h"))
    assert expected <= set(names("--since", "30m", "--until", "now"))
    assert names("--start-time=-7d", "--end-time", "-1h") == []
    assert names("--start-time", "2000-01-01T00:00:00Z", "--end-time", "2000-01-02") == []
    assert names("--start-time", "2000-01-01", "--max", "1") == names()[:1]


def test_lookup_other_region_and_read_only(env: dict[str, str], sites: list[dict[str, Any]]) -> None:
    assert ok(env, "lookup", "--event-name", "CreateSite", "--region", "us-west-2").splitlines()[1:] == []
    reads = ok(env, "lookup", "--read-only", "true", "--output", "json")
    assert {e["ReadOnly"] for e in json.loads(reads)["Events"]} <= {"true"}


def test_lookup_with_a_profile_and_the_endpoint_flag(
    env: dict[str, str], server: ServerProcess, sites: list[dict[str, Any]], tmp_path: Path
) -> None:
    key, secret = server.root_credentials()
    (tmp_path / "credentials").write_text(f"[ops]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    (tmp_path / "config").write_text("[profile ops]\nregion = us-east-1\n")
    extra = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "TRAILPOST_ENDPOINT_URL": "",
    }
    out = ok(
        env,
        "lookup",
        "--profile",
        "ops",
        "--endpoint-url",
        server.endpoint,
        "--event-name",
        "CreateSite",
        "--output",
        "json",
        extra=extra,
    )
    found = {e["Resources"][0]["ResourceName"] for e in json.loads(out)["Events"]}
    assert {sites[0]["SiteId"], sites[1]["SiteId"]} <= found
    missing = run(env, "lookup", "--profile", "nobody", extra=extra)
    assert missing.returncode == 2 and "nobody" in missing.stderr


def test_usage_errors(env: dict[str, str]) -> None:
    two = run(env, "lookup", "--event-name", "CreateSite", "--username", "root")
    assert two.returncode == 2 and "at most one attribute option" in two.stderr
    bad_time = run(env, "lookup", "--start-time", "yesterday-ish")
    assert bad_time.returncode == 2 and "is not a time" in bad_time.stderr
    no_credentials = run(env, "lookup", extra={"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    assert no_credentials.returncode == 2 and "no AWS credentials" in no_credentials.stderr


def test_api_and_connection_errors(env: dict[str, str]) -> None:
    unreachable = run(env, "lookup", "--endpoint-url", f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == 1 and "cannot reach trailpost" in unreachable.stderr
    refused = run(
        env,
        "lookup",
        extra={
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_ACCESS_KEY_ID": "AKIAUNKNOWN00000000",
            "AWS_SECRET_ACCESS_KEY": "x",
        },
    )
    assert refused.returncode == 1 and "UnrecognizedClientException" in refused.stderr
    assert "Traceback" not in unreachable.stderr + refused.stderr


class Tail:
    """``trailpost events tail`` in the background, its stdout lines collected by a thread."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [*TRAILPOST, "tail", "--interval", "0.2", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"tail never printed {text!r}; printed: {self.seen}")

    def drain(self, seconds: float) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.1))
        return self.seen

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


def test_tail_sees_a_new_event_and_stops_cleanly(env: dict[str, str], server: ServerProcess) -> None:
    tail = Tail(env, "--event-source", "outposts.amazonaws.com", "--lines", "0")
    try:
        tail.wait_for("Event time")  # the header: it is running
        time.sleep(0.5)
        site = server.client("outposts").create_site(Name="made while tailing")["Site"]
        line = tail.wait_for(site["SiteId"])
        assert "CreateSite" in line and "root" in line
        server.client("outposts").get_site(SiteId=site["SiteId"])
        assert "GetSite" in tail.wait_for("GetSite")
    finally:
        code, stderr = tail.interrupt()
    assert code == 0 and "Traceback" not in stderr, stderr


def test_tail_hides_its_own_polls_unless_asked(env: dict[str, str], server: ServerProcess) -> None:
    quiet = Tail(env, "--lines", "0")
    try:
        quiet.wait_for("Event time")
        time.sleep(1.0)
        server.client("outposts").list_sites()
        quiet.wait_for("ListSites")
        lines = quiet.drain(1.0)
    finally:
        assert quiet.interrupt()[0] == 0
    assert not [line for line in lines if "LookupEvents" in line], lines
    loud = Tail(env, "--lines", "0", "--include-own", "--output", "json")
    try:
        record = json.loads(loud.wait_for('"eventName":"LookupEvents"'))
        assert record["eventSource"] == "cloudtrail.amazonaws.com" and record["readOnly"] is True
    finally:
        assert loud.interrupt()[0] == 0


def test_tail_shows_recent_events_first(env: dict[str, str], sites: list[dict[str, Any]]) -> None:
    newest, older = json.loads(ok(env, "lookup", "--event-name", "CreateSite", "--output", "json", "--max", "2"))[
        "Events"
    ]
    tail = Tail(env, "--event-name", "CreateSite", "--lines", "1")
    try:
        assert newest["Resources"][0]["ResourceName"] in tail.wait_for("CreateSite")
        assert older["Resources"][0]["ResourceName"] not in " ".join(tail.drain(0.6))
    finally:
        assert tail.interrupt()[0] == 0


def test_download_csv_and_json(env: dict[str, str], sites: list[dict[str, Any]], tmp_path: Path) -> None:
    listed = json.loads(ok(env, "lookup", "--event-name", "CreateSite", "--output", "json"))["Events"]
    ids = [event["Resources"][0]["ResourceName"] for event in listed]
    assert ids.index(sites[1]["SiteId"]) < ids.index(sites[0]["SiteId"])
    result = run(
        env, "download", "--format", "json", "--out", str(tmp_path / "events.json"), "--event-name", "CreateSite"
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(ids)} events to" in result.stderr
    records = json.loads((tmp_path / "events.json").read_text())["Records"]
    assert [r["responseElements"]["Site"]["SiteId"] for r in records] == ids
    assert {r["eventName"] for r in records} == {"CreateSite"}
    ok(
        env,
        "download",
        "--out",
        str(tmp_path / "events.csv"),
        "--resource-type",
        "AWS::Outposts::Site",
        "--start-time",
        "-1h",
    )
    rows = list(csv.DictReader((tmp_path / "events.csv").open(newline="")))
    assert set(ids) <= {row["Resource name"] for row in rows}
    assert all(row["Resource type"] == "AWS::Outposts::Site" for row in rows)
    assert not list(tmp_path.glob(".*.part"))


def test_download_everything_across_pages(env: dict[str, str], server: ServerProcess, tmp_path: Path) -> None:
    outposts = server.client("outposts", region="eu-central-1")
    for _ in range(60):
        outposts.list_sites()
    ok(
        env,
        "download",
        "--format",
        "json",
        "--region",
        "eu-central-1",
        "--event-name",
        "ListSites",
        "--out",
        str(tmp_path / "all.json"),
    )
    records = json.loads((tmp_path / "all.json").read_text())["Records"]
    assert len(records) == 60 and len({r["eventID"] for r in records}) == 60
    assert {r["awsRegion"] for r in records} == {"eu-central-1"}
