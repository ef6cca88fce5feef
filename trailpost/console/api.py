"""The console's API client: every console action is a real, signed API call through the gateway.

``ConsoleApi.call`` does in-process what an SDK does over HTTP: botocore serializes the operation
for the service's protocol, signs it with SigV4 using the session's console credentials (temporary
``ASIA`` credentials minted at sign-in, or the role session signed in with; their secret is looked
up in the STS session at each call, so it never sits in a console session or reaches the browser),
and hands the request to
``Gateway.handle``. So a console call is authenticated, authorized, validated, dispatched and
recorded exactly like an SDK call; the response is read back with botocore's parser.

Rules of the requests it builds (see docs/decisions.md "Console"):

* ``User-Agent`` is the console's: ``console.amazonaws.com`` for the root user and
  ``signin.amazonaws.com`` for IAM users, the values CloudTrail documents for console requests;
* the client address is the browser's (``sourceIPAddress`` of console actions is the customer's
  address, not the console web server's), already resolved through trusted proxies;
* ``HttpRequest.console`` is set, which makes the record carry ``sessionCredentialFromConsole``;
  no ``tlsDetails`` (AWS shows them with console credentials only for external clients);
* no client-side validation: a bad value reaches the service and comes back as AWS's error
  (``ApiError``), recorded like any other failed call;
* ``ThrottlingException`` is retried after a pause, as the AWS console does, at most
  ``THROTTLE_RETRIES`` times.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from trailpost.http import HttpRequest
from trailpost.identity import credentials

if TYPE_CHECKING:
    from trailpost.gateway.app import Gateway

ROOT_USER_AGENT = "console.amazonaws.com"
IAM_USER_AGENT = "signin.amazonaws.com"
THROTTLE_RETRIES = 5
THROTTLE_PAUSE = 0.5


class ApiError(Exception):
    """An API call the service answered with an error: AWS's code and message."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class CredentialsRevoked(Exception):
    """The signed-in access key no longer authenticates (deleted or deactivated)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a console call is made for: the signed-in key and the browser's address and host."""

    access_key_id: str
    identity_type: str
    client_address: str
    host: str
    session_token: str | None = None
    origin_key_id: str | None = None  # the long-term key console credentials were minted for


def console_user_agent(identity_type: str) -> str:
    """The ``User-Agent`` of console requests made by an identity of this CloudTrail type."""
    return ROOT_USER_AGENT if identity_type == "Root" else IAM_USER_AGENT


class ConsoleApi:
    """Signs and sends API calls for signed-in console users through the gateway pipeline."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._serializers: dict[str, Any] = {}
        self._parsers: dict[str, Any] = {}

    async def call(self, caller: Caller, service: str, operation: str, params: dict[str, Any], region: str) -> dict:
        """The parsed output of ``operation``; ``ApiError`` if the service refused it."""
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                return await self._call_once(caller, service, operation, params, region)
            except ApiError as error:
                if error.code != "ThrottlingException" or attempt == THROTTLE_RETRIES:
                    raise
                await asyncio.sleep(THROTTLE_PAUSE * (attempt + 1))
        raise AssertionError("unreachable")

    async def _call_once(
        self, caller: Caller, service: str, operation: str, params: dict[str, Any], region: str
    ) -> dict[str, Any]:
        binding = self.gateway.services[service]
        model = binding.model.operation_model(operation)
        protocol = binding.model.protocol
        request = self._signed_request(caller, binding.signing_name, model, protocol, params, region)
        response = await self.gateway.handle(request)
        parser = self._parsers.get(protocol)
        if parser is None:
            parser = self._parsers[protocol] = create_parser(protocol)
        parsed = parser.parse(
            {"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body},
            model.output_shape,
        )
        if response.status >= 300 or "Error" in parsed:
            error = parsed.get("Error") or {}
            raise ApiError(error.get("Code") or "InternalFailure", error.get("Message") or "", response.status)
        parsed.pop("ResponseMetadata", None)
        return parsed

    def _signed_request(
        self, caller: Caller, signing_name: str, model: Any, protocol: str, params: dict[str, Any], region: str
    ) -> HttpRequest:
        secret = self._secret(caller)
        serializer = self._serializers.get(protocol)
        if serializer is None:
            serializer = self._serializers[protocol] = create_serializer(protocol, include_validation=False)
        request_dict = serializer.serialize_to_request(params, model)
        prepare_request_dict(
            request_dict, endpoint_url=f"http://{caller.host}", user_agent=console_user_agent(caller.identity_type)
        )
        aws_request = create_request_object(request_dict)
        signing = Credentials(caller.access_key_id, secret, caller.session_token)
        SigV4Auth(signing, signing_name, region).add_auth(aws_request)
        prepared = aws_request.prepare()
        url = urlsplit(prepared.url)
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {name.lower(): str(value) for name, value in prepared.headers.items()}
        headers["host"] = url.netloc  # signed by SigV4Auth from the URL, sent by the HTTP client
        return HttpRequest(
            method=prepared.method,
            raw_path=url.path or "/",
            query_string=url.query,
            headers=headers,
            body=body,
            client_host=caller.client_address,
            client_port=0,
            scheme="http",
            console=True,
        )

    def _secret(self, caller: Caller) -> str:
        """The secret of the caller's key: a temporary key's session, or an active long-term key."""
        if caller.origin_key_id is not None and self.gateway.accounts.lookup_key(caller.origin_key_id) is None:
            raise CredentialsRevoked(caller.origin_key_id)  # the key signed in with was deactivated or deleted
        if caller.session_token is not None:
            session = credentials.lookup(self.gateway.store, caller.access_key_id)
            if session is None:
                raise CredentialsRevoked(caller.access_key_id)
            return str(session["secret_access_key"])
        found = self.gateway.accounts.lookup_key(caller.access_key_id)
        if found is None:
            raise CredentialsRevoked(caller.access_key_id)
        return found[0]

    async def pages(
        self,
        caller: Caller,
        service: str,
        operation: str,
        params: dict[str, Any],
        region: str,
        key: str,
        limit: int,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` items of the list ``key``, following ``NextToken``; and whether more exist."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self.call(
                caller, service, operation, {**params, **({"NextToken": token} if token else {})}, region
            )
            items.extend(page.get(key) or [])
            token = page.get("NextToken")
            if not token or len(items) >= limit:
                return items[:limit], bool(token) or len(items) > limit
