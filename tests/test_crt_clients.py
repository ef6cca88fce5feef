"""boto3 as ``boto3[crt]`` users have it: botocore with awscrt's SigV4 signers and checksums.

The rest of the suite runs botocore's Python signers (``tests/conftest.py`` sets ``BOTO_DISABLE_CRT``,
since trailpost's own dependency on awscrt would otherwise switch every client in the environment).
Here a separate Python process, without that opt-out, signs with awscrt against the shared server:
Outposts and CloudTrail calls, and S3 objects of several MiB whose CRC32C and CRC64NVME botocore
computes with awscrt and trailpost verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.server import ServerProcess

CLIENT = r"""
import base64, json, os, sys
import boto3, botocore.auth, botocore.compat, botocore.config
from botocore.crt.auth import CrtSigV4Auth

assert botocore.compat.HAS_CRT, "awscrt is not in use"
assert botocore.auth.AUTH_TYPE_MAPS["v4"] is CrtSigV4Auth, "botocore does not sign with awscrt"
endpoint, key, secret = sys.argv[1:4]
session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1")
config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
outposts, s3, cloudtrail = (
    session.client(name, endpoint_url=endpoint, config=config) for name in ("outposts", "s3", "cloudtrail")
)

site = outposts.create_site(Name="signed by awscrt")["Site"]
assert outposts.get_site(SiteId=site["SiteId"])["Site"]["Name"] == "signed by awscrt"
found = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": site["SiteId"]}])
names = sorted({event["EventName"] for event in found["Events"]})

bucket = "crt-" + site["SiteId"][3:]
s3.create_bucket(Bucket=bucket)
body = os.urandom(3 * 2**20 + 17)
sums = {}
for algorithm in ("CRC32C", "CRC64NVME"):
    put = s3.put_object(Bucket=bucket, Key=algorithm, Body=body, ChecksumAlgorithm=algorithm)
    got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    sums[algorithm] = [put["Checksum" + algorithm], got["Checksum" + algorithm]]
try:
    wrong = base64.b64encode(bytes(8)).decode()  # a well-formed CRC64NVME that is not the body's
    s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumCRC64NVME=wrong)
    refused = None
except s3.exceptions.ClientError as error:
    refused = error.response["Error"]["Code"]
print(json.dumps({"names": names, "sums": sums, "refused": refused}))
"""


def test_boto3_with_awscrt_signs_and_checksums_against_trailpost(server: ServerProcess) -> None:
    key, secret = server.root_credentials()
    env = {name: value for name, value in os.environ.items() if name != "BOTO_DISABLE_CRT"}
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, server.endpoint, key, secret],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["names"] == ["CreateSite", "GetSite"]
    for algorithm, (sent, returned) in result["sums"].items():
        assert sent and sent == returned, algorithm  # botocore's checksum, verified and kept by trailpost
    assert result["refused"] == "BadDigest"
