"""Loopback fakes of Google's token endpoint and of the GCE metadata server.

The token endpoint checks a service account's JWT with an implementation independent of
regauth's (python3-jwt over python3-cryptography) and the key's public half: signature, RS256,
iss, scope, aud (its own token_uri) and the iat/exp window; and an authorized_user's refresh
grant against the client and refresh token it was given.  Both fakes answer, by `mode`:
"ok", "refused" (Google's invalid_grant), "expired" (expires_in 0), "malformed" (not JSON),
"slow" (a stall longer than the command's --timeout)."""

from __future__ import annotations

import json
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .fixture_server import FixtureServer, Reply, Request

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
METADATA_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
SLOW_SECONDS = 8  # longer than the --timeout the slow tests give regauth


def _json(status: int, value) -> Reply:
    return Reply(status, [("Content-Type", "application/json")], json.dumps(value).encode())


def _scripted(mode: str, access_token: str) -> Reply | None:
    if mode == "refused":
        return _json(400, {"error": "invalid_grant",
                           "error_description": "Invalid JWT Signature."})
    if mode == "expired":
        return _json(200, {"access_token": access_token, "expires_in": 0,
                           "token_type": "Bearer"})
    if mode == "malformed":
        return Reply(200, [("Content-Type", "application/json")], b"<html>oops</html>")
    if mode == "slow":
        return Reply(200, [], b"{}", stall=SLOW_SECONDS)
    return None


class GoogleTokenEndpoint:
    """POST /token: a jwt-bearer or refresh_token grant -> {"access_token", "expires_in"}."""

    def __init__(self, access_token: str, mode: str = "ok"):
        self.access_token = access_token
        self.mode = mode
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.email = "pusher@demo-project.iam.gserviceaccount.com"
        self.refresh = ("1234.apps.googleusercontent.com", "client-secret-x", "1//refresh-x")
        self.verified: list[dict] = []  # the claims of every JWT that passed
        self.server = FixtureServer(self._route).start()

    @property
    def token_uri(self) -> str:
        return f"{self.server.url}/token"

    def stop(self) -> None:
        self.server.stop()

    def service_account_key(self, token_uri: str | None = None) -> str:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        return json.dumps({
            "type": "service_account", "project_id": "demo-project",
            "private_key_id": "0123abcd", "private_key": pem, "client_email": self.email,
            "client_id": "1000", "token_uri": token_uri or self.token_uri})

    def authorized_user(self) -> str:
        client_id, secret, refresh = self.refresh
        return json.dumps({"type": "authorized_user", "client_id": client_id,
                           "client_secret": secret, "refresh_token": refresh,
                           "token_uri": self.token_uri})

    def _route(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/token":
            return _json(404, {"error": "not_found"})
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return _json(400, {"error": "invalid_request", "error_description": "content type"})
        form = urllib.parse.parse_qs(request.body.decode(), strict_parsing=True)
        scripted = _scripted(self.mode, self.access_token)
        if scripted:
            return scripted
        grant = form.get("grant_type", [""])[0]
        if grant == JWT_BEARER:
            try:
                claims = jwt.decode(form["assertion"][0], self.private_key.public_key(),
                                    algorithms=["RS256"], audience=self.token_uri,
                                    issuer=self.email, options={"require": ["iat", "exp"]})
            except (jwt.InvalidTokenError, KeyError) as error:
                return _json(400, {"error": "invalid_grant",
                                   "error_description": f"Invalid JWT: {error}"})
            header = jwt.get_unverified_header(form["assertion"][0])
            now = time.time()
            if (claims.get("scope") != SCOPE or claims["exp"] - claims["iat"] != 3600
                    or abs(claims["iat"] - now) > 300 or header.get("kid") != "0123abcd"):
                return _json(400, {"error": "invalid_scope", "error_description": str(claims)})
            self.verified.append(claims)
        elif grant == "refresh_token":
            given = tuple(form.get(name, [""])[0]
                          for name in ("client_id", "client_secret", "refresh_token"))
            if given != self.refresh:
                return _json(400, {"error": "invalid_grant",
                                   "error_description": "Token has been expired or revoked."})
        else:
            return _json(400, {"error": "unsupported_grant_type"})
        return _json(200, {"access_token": self.access_token, "expires_in": 3599,
                           "token_type": "Bearer"})


class MetadataServer:
    """GET the default service account's token, only with Metadata-Flavor: Google."""

    def __init__(self, access_token: str, mode: str = "ok"):
        self.access_token = access_token
        self.mode = mode
        self.server = FixtureServer(self._route).start()

    @property
    def host(self) -> str:
        return self.server.hostport

    def stop(self) -> None:
        self.server.stop()

    def _route(self, request: Request) -> Reply:
        if request.headers.get("metadata-flavor") != "Google":
            return Reply(403, [], b"Missing Metadata-Flavor:Google header.")
        if request.method != "GET" or request.path != METADATA_PATH:
            return Reply(404, [], b"not found")
        scripted = _scripted(self.mode, self.access_token)
        if scripted:
            return scripted
        return _json(200, {"access_token": self.access_token, "expires_in": 3599,
                           "token_type": "Bearer"})
