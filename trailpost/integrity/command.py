"""``trailpost validate-logs``: the AWS CLI's ``cloudtrail validate-logs``, plus local copies and forensics.

Options as the AWS CLI's (``--trail-arn --start-time [--end-time] [--s3-bucket] [--s3-prefix]
[--account-id] [--verbose]``, with the global ``--endpoint-url --region --profile``), same output
and exit codes: 0 when everything found is valid, 1 when a digest or log file is INVALID, 255 when
validation cannot run (bad ARN or time range, unknown trail, no public keys, an API error), as the
AWS CLI exits on an exception. Additions:

* ``--local-dir DIR``: validate a copy of the bucket in a directory (``DIR/<key>``) instead of S3;
  public keys from ``--public-keys FILE`` (a saved ``aws cloudtrail list-public-keys`` answer) or
  from the API; the bucket name from ``--s3-bucket`` (required without the API);
* ``--save-to DIR``: keep a copy of every object read, with signature sidecars, for offline runs;
* ``--reference-dir DIR``: an intact copy used to tell which events a bad log file held; without
  it (or when it lacks the file) Event history is asked (``LookupEvents``) unless ``--no-lookup``;
* a progress bar on stderr when it is a terminal (``--no-progress`` to hide it).
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

ARN = re.compile(r"arn:.+:cloudtrail:.+:\d{12}:trail/.+")


def _date(text: str) -> datetime:
    from dateutil import parser

    try:
        return parser.parse(text).replace(tzinfo=UTC)  # the AWS CLI's normalize_date: the zone is replaced
    except (ValueError, OverflowError):
        raise ValueError(f"Unable to parse date value: {text}") from None


def _fail(message: str) -> None:
    sys.stderr.write(f"\n{message}\n")
    sys.exit(255)


@click.command("validate-logs")
@click.option("--trail-arn", required=True, help="ARN of the trail to validate.")
@click.option(
    "--start-time",
    required=True,
    help='Validate files delivered on or after this UTC time, e.g. "2015-01-08T05:21:42Z".',
)
@click.option("--end-time", default=None, help="Validate files delivered on or before this UTC time (default: now).")
@click.option("--s3-bucket", default=None, help="Bucket of the digests (default: the trail's, from DescribeTrails).")
@click.option("--s3-prefix", default=None, help="Key prefix of the digests (default: the trail's).")
@click.option("--account-id", default=None, help="Account whose files are validated (default: the trail ARN's).")
@click.option("--verbose", is_flag=True, help="Print a line for every valid file too.")
@click.option(
    "--endpoint-url",
    default=None,
    help="Endpoint of CloudTrail and S3 (e.g. trailpost's); else AWS_ENDPOINT_URL / the profile's.",
)
@click.option("--region", default=None, help="Region whose digests are validated (default: the profile's).")
@click.option("--profile", default=None, help="AWS profile for credentials and region.")
@click.option(
    "--local-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Validate this directory copy of the bucket instead of S3.",
)
@click.option(
    "--public-keys",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Saved list-public-keys JSON (for --local-dir without the API).",
)
@click.option(
    "--save-to",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep a copy of every object read here.",
)
@click.option(
    "--reference-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Intact copy that tells which events a bad log file held.",
)
@click.option("--no-lookup", is_flag=True, help="Do not ask Event history (LookupEvents) about bad log files.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def validate_logs(**opts: Any) -> None:
    """Validate a trail's digest and log files, as `aws cloudtrail validate-logs` does."""
    try:
        code = _run(opts)
    except Exception as exc:  # noqa: BLE001 - the AWS CLI's behaviour: message on stderr, exit 255
        _fail(str(exc))
    sys.exit(code)


def _run(opts: dict[str, Any]) -> int:
    import boto3
    import botocore.config

    from trailpost.integrity.forensics import Forensics
    from trailpost.integrity.report import Report
    from trailpost.integrity.sources import LocalSource, S3Source, Saver, api_public_keys, file_public_keys
    from trailpost.integrity.validate import Target, ValidationSetupError, Validator

    arn = opts["trail_arn"]
    if not ARN.match(arn):
        raise ValueError(f"Invalid trail ARN provided: {arn}")
    start = _date(opts["start_time"])
    end = _date(opts["end_time"]) if opts["end_time"] else datetime.now(UTC)
    if start > end:
        raise ValueError("Invalid time range specified: start-time must occur before end-time")
    local: Path | None = opts["local_dir"]
    offline = local is not None and opts["public_keys"] is not None and opts["s3_bucket"] is not None
    session = boto3.session.Session(profile_name=opts["profile"]) if opts["profile"] else boto3.session.Session()
    region = opts["region"] or session.region_name or arn.split(":")[3]
    cloudtrail = None
    if not offline:
        cloudtrail = session.client(
            "cloudtrail",
            region_name=region,
            endpoint_url=opts["endpoint_url"],
            config=botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
    bucket, prefix = opts["s3_bucket"], opts["s3_prefix"]
    if bucket is None:
        if cloudtrail is None:
            raise ValueError("--s3-bucket is required with --local-dir and --public-keys")
        trail = next((t for t in cloudtrail.describe_trails()["trailList"] if t.get("TrailARN") == arn), None)
        if trail is None:
            raise ValueError(f"A trail could not be found for {arn}")
        bucket, prefix = trail["S3BucketName"], trail.get("S3KeyPrefix")
    source = LocalSource(local) if local is not None else S3Source(session, region, opts["endpoint_url"])
    if opts["public_keys"] is not None:
        keys_file = opts["public_keys"]

        def public_keys(start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
            return file_public_keys(keys_file)
    else:

        def public_keys(start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
            return api_public_keys(cloudtrail, start, end)

    reference = LocalSource(opts["reference_dir"]) if opts["reference_dir"] is not None else None
    forensics = Forensics(reference, None if opts["no_lookup"] else cloudtrail)
    report = Report(opts["verbose"], progress=not opts["no_progress"])
    validator = Validator(
        Target(arn, start, end, bucket, prefix or None, opts["account_id"] or arn.split(":")[4], region),
        source,
        public_keys,
        report,
        explain=forensics.explain if (reference is not None or cloudtrail is not None) else None,
        saver=Saver(opts["save_to"]) if opts["save_to"] is not None else None,
        chain_signatures=local is not None,
    )
    try:
        return validator.run()
    except ValidationSetupError as exc:
        report.finish()
        raise ValueError(str(exc)) from None
