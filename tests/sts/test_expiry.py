"""Temporary credentials really expire: the server's clock is the only variable.

The credentials are issued by a server running on the host clock; the same data directory is
then served with ``TRAILPOST_CLOCK_OFFSET_SECONDS`` set, i.e. by a server whose clock is that much
later, and the client signs with a clock just as far ahead (time passed for both, as it would).
Just before the expiration the credentials still work; at and after it, every service answers
its expired-token error, and nothing is recorded (the caller is not authenticated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.auth
import botocore.compat
import pytest

from tests.identity.support import allow, client, fails, make_role, make_user, no_record_of, session_credentials
from tests.support.server import ServerProcess

EXPIRED = "The security token included in the request is expired"


@contextmanager
def client_clock_ahead(seconds: float) -> Iterator[None]:
    """botocore signs as if ``seconds`` had passed."""
    real = botocore.compat.get_current_datetime

    def later(remove_tzinfo: bool = True) -> Any:
        return real(remove_tzinfo) + timedelta(seconds=seconds)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", later)
        yield


def _issue(server: ServerProcess) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    role_session = user.client(server, "sts").assume_role(
        RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900
    )
    token_session = user.client(server, "sts").get_session_token(DurationSeconds=900)
    return session_credentials(role_session), session_credentials(token_session)


def test_credentials_expire_after_their_duration(tmp_path: Path, make_server: Callable[..., ServerProcess]) -> None:
    data = tmp_path / "data"
    first = make_server(data_dir=data)
    role_creds, token_creds = _issue(first)
    first.stop()

    almost = make_server(data_dir=data, env={"TRAILPOST_CLOCK_OFFSET_SECONDS": "880"})
    with client_clock_ahead(880):
        assert client(almost, "sts", credentials=role_creds).get_caller_identity()["Arn"].endswith("/short")
        assert client(almost, "sts", credentials=token_creds).get_caller_identity()
    almost.stop()

    later = make_server(data_dir=data, env={"TRAILPOST_CLOCK_OFFSET_SECONDS": "905"})
    with client_clock_ahead(905):
        for creds in (role_creds, token_creds):
            error = fails(client(later, "sts", credentials=creds).get_caller_identity, "ExpiredToken", 403, EXPIRED)
            assert no_record_of(later, error)
        fails(client(later, "outposts", credentials=role_creds).list_sites, "ExpiredTokenException", 403, EXPIRED)
        fails(client(later, "iam", credentials=role_creds).list_users, "ExpiredToken", 403, EXPIRED)


def test_the_clock_offset_moves_the_signature_window_too(make_server: Callable[..., ServerProcess]) -> None:
    ahead = make_server(env={"TRAILPOST_CLOCK_OFFSET_SECONDS": "3600"})
    fails(client(ahead, "sts").get_caller_identity, "SignatureDoesNotMatch", 403)  # signed an hour "ago"
    with client_clock_ahead(3600):
        assert client(ahead, "sts").get_caller_identity()["Account"]
