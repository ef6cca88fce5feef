"""Tags end to end through boto3: TagResource, UntagResource, ListTagsForResource on sites and outposts.

The ARN travels percent-encoded in the path (``/tags/arn%3Aaws%3A...%2F...``) and UntagResource's
keys as a repeated ``tagKeys`` query parameter, so keys with ``:``, ``/``, ``+`` and ``=`` check
both encodings. The key pattern ``^(?!aws:)[a-zA-Z+-=._:/]+$`` admits letters, digits (inside the
``+-=`` range) and ``+ , - . / : ; < = _`` but no spaces.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.errors import aws_error

ODD_KEYS = {"a/b": "slash", "x:y": "colon", "p+q=r": "plus and equals", "k.e_y-1": "dot underscore dash", "Z": "z"}


def foreign_arns(arn: str) -> list[str]:
    parts = arn.split(":")
    other_account = ":".join([*parts[:4], "111122223333", *parts[5:]])
    other_region = ":".join([*parts[:3], "eu-west-1", *parts[4:]])
    other_partition = ":".join([parts[0], "aws-cn", *parts[2:]])
    return [other_account, other_region, other_partition]


@pytest.fixture
def site(outposts: Any) -> dict[str, Any]:
    return outposts.create_site(Name=f"tags-{uuid.uuid4().hex[:8]}", Tags={"origin": "create"})["Site"]


@pytest.fixture
def outpost(outposts: Any, site: dict[str, Any]) -> dict[str, Any]:
    return outposts.create_outpost(Name="tagged", SiteId=site["SiteId"], Tags={"origin": "create"})["Outpost"]


def tags_of(outposts: Any, arn: str) -> dict[str, str]:
    return outposts.list_tags_for_resource(ResourceArn=arn)["Tags"]


@pytest.mark.parametrize("kind", ["site", "outpost"])
def test_tag_list_untag(outposts: Any, site: dict[str, Any], outpost: dict[str, Any], kind: str) -> None:
    arn, get = (
        (site["SiteArn"], lambda: outposts.get_site(SiteId=site["SiteId"])["Site"])
        if kind == "site"
        else (outpost["OutpostArn"], lambda: outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"])
    )
    assert tags_of(outposts, arn) == {"origin": "create"}
    response = outposts.tag_resource(ResourceArn=arn, Tags={"team": "infra", "origin": "tagged later"})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    expected = {"origin": "tagged later", "team": "infra"}
    assert tags_of(outposts, arn) == expected
    assert get()["Tags"] == expected
    outposts.untag_resource(ResourceArn=arn, TagKeys=["origin"])
    assert tags_of(outposts, arn) == {"team": "infra"}
    assert get()["Tags"] == {"team": "infra"}


def test_keys_with_colons_slashes_and_symbols(outposts: Any, site: dict[str, Any]) -> None:
    values = {**ODD_KEYS, "spaces": "a value with spaces\nand a newline"}
    outposts.tag_resource(ResourceArn=site["SiteArn"], Tags=values)
    assert tags_of(outposts, site["SiteArn"]) == {"origin": "create", **values}
    # several keys in one call: a repeated tagKeys query parameter; a key the resource lacks is ignored
    outposts.untag_resource(ResourceArn=site["SiteArn"], TagKeys=["a/b", "x:y", "p+q=r", "not-there"])
    assert tags_of(outposts, site["SiteArn"]) == {
        "origin": "create",
        "k.e_y-1": "dot underscore dash",
        "Z": "z",
        "spaces": values["spaces"],
    }
    outposts.untag_resource(ResourceArn=site["SiteArn"], TagKeys=["origin", "k.e_y-1", "Z", "spaces"])
    assert tags_of(outposts, site["SiteArn"]) == {}


def test_keys_with_spaces_are_refused_by_the_model_pattern(outposts: Any, site: dict[str, Any]) -> None:
    response = aws_error(
        "ValidationException", 400, outposts.tag_resource, ResourceArn=site["SiteArn"], Tags={"cost center": "1"}
    )
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value '{cost center=1}' at 'tags' failed to satisfy constraint: Map keys "
        "must satisfy constraint: [Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$]"
    )
    response = aws_error(
        "ValidationException", 400, outposts.untag_resource, ResourceArn=site["SiteArn"], TagKeys=["origin", "a b"]
    )
    assert (
        "Value 'a b' at 'tagKeys.2.member' failed to satisfy constraint: Member must satisfy regular"
        in (response["Error"]["Message"])
    )
    assert tags_of(outposts, site["SiteArn"]) == {"origin": "create"}


def test_aws_prefix_is_refused(outposts: Any, site: dict[str, Any]) -> None:
    tag = outposts.tag_resource
    response = aws_error("ValidationException", 400, tag, ResourceArn=site["SiteArn"], Tags={"aws:owner": "me"})
    assert "at 'tags' failed to satisfy constraint: Map keys must satisfy constraint" in response["Error"]["Message"]
    aws_error("ValidationException", 400, outposts.create_site, Name="n", Tags={"aws:cloudformation:stack": "s"})
    aws_error("ValidationException", 400, outposts.untag_resource, ResourceArn=site["SiteArn"], TagKeys=["aws:owner"])
    # only the exact prefix is reserved
    tag(ResourceArn=site["SiteArn"], Tags={"awsome": "1", "my:aws:key": "2"})
    assert tags_of(outposts, site["SiteArn"]) == {"origin": "create", "awsome": "1", "my:aws:key": "2"}


def test_key_and_value_lengths(outposts: Any, site: dict[str, Any]) -> None:
    tag = outposts.tag_resource
    tag(ResourceArn=site["SiteArn"], Tags={"k" * 128: "v" * 256})
    assert tags_of(outposts, site["SiteArn"])["k" * 128] == "v" * 256
    response = aws_error("ValidationException", 400, tag, ResourceArn=site["SiteArn"], Tags={"k" * 129: "v"})
    assert (
        "Map keys must satisfy constraint: [Member must have length less than or equal to 128]"
        in (response["Error"]["Message"])
    )
    response = aws_error("ValidationException", 400, tag, ResourceArn=site["SiteArn"], Tags={"k": "v" * 257})
    assert (
        "Map value must satisfy constraint: [Member must have length less than or equal to 256]"
        in (response["Error"]["Message"])
    )
    aws_error("ValidationException", 400, tag, ResourceArn=site["SiteArn"], Tags={"k": ""})


def test_fifty_tags_per_resource_across_calls(outposts: Any) -> None:
    site = outposts.create_site(Name="many", Tags={f"k{i}": str(i) for i in range(30)})["Site"]
    arn = site["SiteArn"]
    outposts.tag_resource(ResourceArn=arn, Tags={f"k{i}": str(i) for i in range(30, 50)})
    assert len(tags_of(outposts, arn)) == 50
    response = aws_error("ValidationException", 400, outposts.tag_resource, ResourceArn=arn, Tags={"k50": "50"})
    assert "50" in response["Error"]["Message"]
    assert len(tags_of(outposts, arn)) == 50 and "k50" not in tags_of(outposts, arn)
    # overwriting existing keys does not add tags
    outposts.tag_resource(ResourceArn=arn, Tags={"k0": "zero", "k49": "forty-nine"})
    assert tags_of(outposts, arn)["k0"] == "zero"
    outposts.untag_resource(ResourceArn=arn, TagKeys=["k1", "k2"])
    outposts.tag_resource(ResourceArn=arn, Tags={"new1": "a", "new2": "b"})
    assert len(tags_of(outposts, arn)) == 50
    aws_error("ValidationException", 400, outposts.tag_resource, ResourceArn=arn, Tags={"k1": "1"})


def test_fifty_one_tags_in_one_request(outposts: Any, site: dict[str, Any]) -> None:
    response = aws_error(
        "ValidationException",
        400,
        outposts.tag_resource,
        ResourceArn=site["SiteArn"],
        Tags={f"k{i}": "v" for i in range(51)},
    )
    assert (
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
        in (response["Error"]["Message"])
    )
    response = aws_error(
        "ValidationException",
        400,
        outposts.untag_resource,
        ResourceArn=site["SiteArn"],
        TagKeys=[f"k{i}" for i in range(51)],
    )
    assert (
        "at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"
        in (response["Error"]["Message"])
    )
    aws_error(
        "ValidationException",
        400,
        outposts.create_outpost,
        Name="o",
        SiteId=site["SiteId"],
        Tags={f"k{i}": "v" for i in range(51)},
    )
    assert tags_of(outposts, site["SiteArn"]) == {"origin": "create"}


@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource", "list_tags_for_resource"])
def test_unknown_or_foreign_arns_are_not_found(
    outposts: Any, site: dict[str, Any], outpost: dict[str, Any], operation: str
) -> None:
    args = {"tag_resource": {"Tags": {"k": "v"}}, "untag_resource": {"TagKeys": ["origin"]}}.get(operation, {})
    call = getattr(outposts, operation)
    account = site["AccountId"]
    arns = [
        f"arn:aws:outposts:us-east-1:{account}:site/os-0123456789abcdef0",  # no such site
        site["SiteArn"].replace(":site/", ":outpost/"),  # right id, wrong type
        outpost["OutpostArn"].replace(":outpost/", ":site/"),
        f"arn:aws:outposts:us-east-1:{account}:order/oo-0123456789abcdef0",  # not taggable
        *foreign_arns(site["SiteArn"]),
        *foreign_arns(outpost["OutpostArn"]),
    ]
    for arn in arns:
        response = aws_error("NotFoundException", 404, call, ResourceArn=arn, **args)
        assert arn in response["Error"]["Message"]
    assert tags_of(outposts, site["SiteArn"]) == {"origin": "create"}
    assert tags_of(outposts, outpost["OutpostArn"]) == {"origin": "create"}


def test_tags_of_a_deleted_resource(outposts: Any, site: dict[str, Any]) -> None:
    outposts.delete_site(SiteId=site["SiteId"])
    aws_error("NotFoundException", 404, outposts.list_tags_for_resource, ResourceArn=site["SiteArn"])
    aws_error("NotFoundException", 404, outposts.tag_resource, ResourceArn=site["SiteArn"], Tags={"k": "v"})


@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource", "list_tags_for_resource"])
def test_malformed_arn(outposts: Any, operation: str) -> None:
    args = {"tag_resource": {"Tags": {"k": "v"}}, "untag_resource": {"TagKeys": ["k"]}}.get(operation, {})
    response = aws_error(
        "ValidationException", 400, getattr(outposts, operation), ResourceArn="arn:aws:ec2:us-east-1:1:x/y", **args
    )
    assert response["Error"]["Message"].startswith(
        "1 validation error detected: Value 'arn:aws:ec2:us-east-1:1:x/y' at 'resourceArn' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
    )
