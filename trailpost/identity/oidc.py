"""OpenID Connect ID tokens for AssumeRoleWithWebIdentity: reading them, and verifying them for real.

A token is a compact JWS (``header.payload.signature``, base64url). ``peek`` reads the claims
without trusting them (the record of the call names the provider, audience and subject even when
the token is then refused); ``verify`` is the check AWS makes, in this order, each failure an
``InvalidIdentityToken`` with AWS's message:

1. the token is a JWT signed with ``RS256`` (the algorithm trailpost supports);
2. ``iss`` is the IAM OpenID Connect provider's URL (``https://`` + the provider's host and path);
3. ``aud`` (a string or a list) contains one of the provider's client ids: "Incorrect token
   audience";
4. ``exp`` is in the future: "Token expired: current date/time <now> must be before the
   expiration date/time<exp>" (AWS's wording, space missing); ``sub`` is present;
5. the signature verifies with a key of the issuer's JWKS (the key whose ``kid`` the header names,
   else any RSA key of the set).

Keys: AWS fetches the issuer's JWKS over the internet; trailpost reads them from the file the
``oidc_jwks_file`` setting names - ``{"<issuer URL>": {"keys": [<JWK>...]}}`` - at every call, so
keys can be rotated without a restart. An issuer without keys there is "Couldn't retrieve
verification key from your identity provider, ...", as AWS answers an unreachable JWKS.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa


NOT_A_JWT = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
NO_KEYS = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)


class TokenError(Exception):
    """A token AWS would refuse; the message is AWS's."""


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError(NOT_A_JWT) from None


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    pieces = token.split(".")
    if len(pieces) != 3:
        raise TokenError(NOT_A_JWT)
    try:
        header = json.loads(_b64url(pieces[0]))
        claims = json.loads(_b64url(pieces[1]))
    except (ValueError, UnicodeDecodeError):
        raise TokenError(NOT_A_JWT) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError(NOT_A_JWT)
    return header, claims, f"{pieces[0]}.{pieces[1]}".encode(), _b64url(pieces[2])


def peek(token: str) -> dict[str, Any]:
    """The token's claims, unverified; ``TokenError`` if it is not a JWT at all."""
    return _parts(token)[1]


def audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [item for item in aud if isinstance(item, str)] if isinstance(aud, list) else []


def load_jwks(path: Path | None, issuer: str) -> list[dict[str, Any]]:
    """The issuer's keys from the configured JWKS file (``[]`` when there are none)."""
    if path is None:
        return []
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    jwks = table.get(issuer.rstrip("/")) if isinstance(table, dict) else None
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    return [key for key in keys if isinstance(key, dict)] if isinstance(keys, list) else []


def _rsa_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey | None:
    # cryptography on first use: reader processes never run this and never load it (~10 MiB each)
    from cryptography.hazmat.primitives.asymmetric import rsa

    if jwk.get("kty") != "RSA" or not isinstance(jwk.get("n"), str) or not isinstance(jwk.get("e"), str):
        return None
    try:
        n = int.from_bytes(_b64url(jwk["n"]), "big")
        e = int.from_bytes(_b64url(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (TokenError, ValueError):
        return None


def verify(token: str, *, issuer: str, client_ids: list[str], jwks_file: Path | None, now: float) -> dict[str, Any]:
    """The claims of ``token`` once it passed every check of the module docstring."""
    header, claims, signing_input, signature = _parts(token)
    if header.get("alg") != "RS256":
        raise TokenError(f"Unsupported token signing algorithm: {header.get('alg')}")
    if str(claims.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
        raise TokenError(f"No OpenIDConnect provider found in your account for {claims.get('iss')}")
    if not set(audiences(claims)) & set(client_ids):
        raise TokenError("Incorrect token audience")
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        raise TokenError("The token has no expiration date (exp).")
    if now >= expires:
        raise TokenError(
            f"Token expired: current date/time {int(now)} must be before the expiration date/time{int(expires)}"
        )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenError("The token has no subject (sub).")
    keys = load_jwks(jwks_file, issuer)
    if header.get("kid") is not None:
        keys = [key for key in keys if key.get("kid") == header["kid"]]
    public_keys = [key for key in (_rsa_key(jwk) for jwk in keys) if key is not None]
    if not public_keys:
        raise TokenError(NO_KEYS)
    # cryptography on first use: reader processes never run this and never load it (~10 MiB each)
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    for key in public_keys:
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            return claims
        except InvalidSignature:
            continue
    raise TokenError("The web identity token signature could not be verified.")
