"""A Docker Registry v2 token server, run in a thread of the test process.

Implements the token endpoint of the distribution auth specs
(spec/auth/token.md for GET, spec/auth/oauth.md for POST) well enough for
distribution 2.8.2 (`auth: token`) to accept its tokens, and records every
request so tests can assert what a client sent.

Tokens are ES256 JWTs whose header names the signing key by its libtrust
key id (`kid`); `rootcertbundle` is a self-signed certificate of that key,
which is what distribution 2.8 looks the `kid` up in.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .fixture_server import LoopbackServer

# name -> (password, {repo_glob: {actions}})
Users = dict[str, tuple[str, dict[str, set[str]]]]
# repo_glob -> {actions}
Grants = dict[str, set[str]]

# Largest request body we read; tests never send more.
_MAX_BODY = 1 << 20


def libtrust_key_id(public_key) -> str:
    """libtrust's key id: base32(sha256(DER SPKI)[:30]) as 12 ':'-joined groups."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """Split `type:name:actions` (name may itself contain ':', e.g. a port)."""
    head, sep, actions = scope.rpartition(":")
    rtype, sep2, name = head.partition(":")
    if not sep or not sep2 or not rtype or not name:
        return None
    return rtype, name, [a for a in actions.split(",") if a]


def _rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


@dataclass
class TokenRequest:
    """One request the server received. `headers` keys are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    form: dict[str, list[str]] = field(default_factory=dict)
    status: int = 0  # the status we answered
    access: list[dict] | None = None  # the `access` claim we granted, if any

    def basic_user(self) -> str | None:
        """The user name of a Basic Authorization header, if any."""
        auth = self.headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            return base64.b64decode(auth[6:]).decode().partition(":")[0]
        except ValueError:
            return None


class TokenServer(LoopbackServer):
    """Token server on 127.0.0.1:<free port>; use as a context manager or
    call start()/stop().

    users        name -> (password, {glob: actions}); globs match the
                 repository name (fnmatch, so `*` spans '/'); for other
                 resource types they match `TYPE:NAME` (e.g. `registry:catalog`).
    anonymous    {glob: actions} granted to everyone, with or without creds.
    realm_path   path of the token endpoint (`/token`, `/jwt/auth`, ...).
    service      expected `service`, and the token audience.
    issuer       `iss` claim; the registry must be configured with the same.
    expires_in   token lifetime in seconds (also `expires_in` in the answer).
    post_supported  False => POST answers 404 (clients must fall back to GET).
    downgrade    grant at most `pull`, whatever the user may do.
    tls          (cert_path, key_path) to serve https.
    """

    def __init__(
        self,
        users: Users | None = None,
        anonymous: Grants | None = None,
        *,
        realm_path: str = "/token",
        service: str = "registry.test",
        issuer: str = "regauth-test-issuer",
        expires_in: int = 300,
        post_supported: bool = True,
        downgrade: bool = False,
        tls: tuple[str, str] | None = None,
        state_dir: str | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
        public_realm: str | None = None,
    ):
        super().__init__()
        self.users: Users = dict(users or {})
        self.anonymous: Grants = dict(anonymous or {})
        self.realm_path = realm_path
        self.service = service
        self.issuer = issuer
        self.expires_in = expires_in
        self.post_supported = post_supported
        self.downgrade = downgrade
        self.tls = tls
        self.address = address  # where to listen: a loopback address and port (0: free)
        self.public_realm = public_realm  # the realm URL as clients see it (e.g. a DNS name)
        self._own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="regauth-token-")
        os.makedirs(self.state_dir, exist_ok=True)

        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> user
        self.unavailable = 0  # the next this many realm requests get 503 (a busy token server)

        self.signing_key = ec.generate_private_key(ec.SECP256R1())
        self.kid = libtrust_key_id(self.signing_key.public_key())
        self.rootcertbundle = self._write_signing_cert()

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> "TokenServer":
        self._serve(_make_handler(self), self.tls, self.address)
        return self

    def stop(self) -> None:
        super().stop()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> "TokenServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- addresses -------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT"""
        return f"{'https' if self.tls else 'http'}://{self.address[0]}:{self.port}"

    @property
    def realm(self) -> str:
        """The realm URL the registry puts in its Bearer challenge."""
        return self.public_realm or self.url + self.realm_path

    # ---- recorded requests -----------------------------------------------

    @property
    def requests(self) -> list[TokenRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def token_requests(self) -> list[TokenRequest]:
        """Requests to the realm path only."""
        return [r for r in self.requests if r.path == self.realm_path]

    # ---- tokens ----------------------------------------------------------

    def grant(self, user: str | None, scopes: list[str]) -> list[dict]:
        """The `access` claim for USER (None = anonymous) asking for SCOPES:
        requested actions intersected with allowed ones, never an error."""
        rules = list(self.anonymous.items())
        if user is not None and user in self.users:
            rules += list(self.users[user][1].items())
        merged: dict[tuple[str, str], list[str]] = {}
        for scope in scopes:
            parsed = parse_scope(scope)
            if not parsed:
                continue
            rtype, name, wanted = parsed
            subject = name if rtype.split("(")[0] == "repository" else f"{rtype}:{name}"
            allowed: set[str] = set()
            for glob, actions in rules:
                if fnmatch.fnmatchcase(subject, glob):
                    allowed |= set(actions)
            if self.downgrade:
                allowed &= {"pull"}
            got = merged.setdefault((rtype, name), [])
            for a in wanted:
                if (a in allowed or "*" in allowed) and a not in got:
                    got.append(a)
        return [
            {"type": t, "name": n, "actions": acts}
            for (t, n), acts in merged.items()
            if acts
        ]

    def issue(self, subject: str, access: list[dict], expires_in: int | None = None) -> str:
        """Mint a signed token (also handy for tests that need one directly)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + (self.expires_in if expires_in is None else expires_in),
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        return jwt.encode(
            claims, self.signing_key, algorithm="ES256", headers={"kid": self.kid}
        )

    def decode(self, token: str) -> dict:
        """Verify a token we issued and return its claims."""
        return jwt.decode(
            token,
            self.signing_key.public_key(),
            algorithms=["ES256"],
            audience=self.service,
            issuer=self.issuer,
        )

    def check_password(self, user: str, password: str) -> bool:
        entry = self.users.get(user)
        return entry is not None and secrets.compare_digest(entry[0], password)

    def new_refresh_token(self, user: str) -> str:
        tok = "rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[tok] = user
        return tok

    def refresh_token_user(self, token: str) -> str | None:
        with self._lock:
            return self._refresh_tokens.get(token)

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()

    # ---- internals -------------------------------------------------------

    def _record(self, req: TokenRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _write_signing_cert(self) -> str:
        """Self-signed cert of the signing key: the registry's rootcertbundle."""
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regauth token signer")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.signing_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(self.signing_key, hashes.SHA256())
        )
        path = os.path.join(self.state_dir, "token-signer.crt")
        with open(path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        return path


def _make_handler(server: TokenServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # per-connection socket timeout: no stuck threads

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        # -- plumbing --

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = b""
                while True:
                    size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return body
                    body += self.rfile.read(size)
                    self.rfile.readline(1024)  # CRLF after the chunk
                    if len(body) > _MAX_BODY:
                        raise ValueError("body too large")
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, _MAX_BODY))

        def _start(self, body: bytes = b"") -> TokenRequest:
            url = urllib.parse.urlsplit(self.path)
            req = TokenRequest(
                method=self.command,
                path=url.path,
                query=urllib.parse.parse_qs(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            ctype = self.headers.get("Content-Type", "")
            if body and ctype.startswith("application/x-www-form-urlencoded"):
                req.form = urllib.parse.parse_qs(body.decode(errors="replace"),
                                                 keep_blank_values=True)
            return req

        def _send(self, req: TokenRequest, status: int, payload, headers=()) -> None:
            """Answer with PAYLOAD (bytes as text/plain, else JSON) and record REQ."""
            req.status = status
            server._record(req)
            if isinstance(payload, bytes):
                data, ctype = payload, "text/plain; charset=utf-8"
            else:
                data, ctype = json.dumps(payload).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _unauthorized(self, req: TokenRequest, msg: str) -> None:
            # Shape used by Docker Hub ("details") and distribution ("errors").
            self._send(req, 401, {
                "details": msg,
                "errors": [{"code": "UNAUTHORIZED", "message": msg}],
            }, [("WWW-Authenticate", 'Basic realm="regauth-test"')])

        def _token_answer(self, req, user, scopes, refresh: str | None) -> None:
            access = server.grant(user, scopes)
            req.access = access
            token = server.issue(user or "", access)
            now = time.time()
            answer = {
                "token": token,
                "access_token": token,
                "expires_in": server.expires_in,
                "issued_at": _rfc3339(now),
                "scope": " ".join(
                    f"{a['type']}:{a['name']}:{','.join(a['actions'])}" for a in access
                ),
            }
            if refresh:
                answer["refresh_token"] = refresh
            self._send(req, 200, answer)

        # -- GET: token.md --

        def _busy(self, req: TokenRequest) -> bool:
            """Answers 503 while `unavailable` asks for it."""
            with server._lock:
                busy = req.path == server.realm_path and server.unavailable > 0
                if busy:
                    server.unavailable -= 1
            if busy:
                self._send(req, 503, b"service unavailable\n")
            return busy

        def do_GET(self) -> None:
            req = self._start()
            if self._busy(req):
                return None
            if req.path != server.realm_path:
                return self._send(req, 404, b"404 page not found\n")
            user = None
            auth = req.headers.get("authorization")
            if auth:
                kind, _, cred = auth.partition(" ")
                if kind.lower() != "basic":
                    return self._unauthorized(req, "unsupported authorization scheme")
                try:
                    name, _, pw = base64.b64decode(cred, validate=True).decode().partition(":")
                except ValueError:
                    return self._unauthorized(req, "malformed basic credentials")
                if not server.check_password(name, pw):
                    return self._unauthorized(req, "incorrect username or password")
                user = name
            scopes = [s for v in req.query.get("scope", []) for s in v.split()]
            refresh = None
            if user and req.query.get("offline_token", [""])[0].lower() == "true":
                refresh = server.new_refresh_token(user)
            self._token_answer(req, user, scopes, refresh)

        # -- POST: oauth.md --

        def do_POST(self) -> None:
            try:
                body = self._read_body()
            except (ValueError, OSError):
                return self._send(self._start(), 400, {"error": "invalid_request"})
            req = self._start(body)
            if self._busy(req):
                return None
            if req.path != server.realm_path or not server.post_supported:
                return self._send(req, 404, b"404 page not found\n")
            form = {k: v[0] for k, v in req.form.items()}
            if not form.get("client_id"):
                return self._send(req, 400, {"error": "invalid_request",
                                             "error_description": "client_id is required"})
            grant_type = form.get("grant_type")
            if grant_type == "password":
                user = form.get("username", "")
                if not server.check_password(user, form.get("password", "")):
                    return self._unauthorized(req, "incorrect username or password")
                refresh = (server.new_refresh_token(user)
                           if form.get("access_type") == "offline" else None)
            elif grant_type == "refresh_token":
                refresh = form.get("refresh_token", "")
                user = server.refresh_token_user(refresh)
                if user is None:
                    return self._unauthorized(req, "invalid refresh token")
                # oauth.md: a refresh grant returns the same refresh token.
            else:
                return self._send(req, 400, {"error": "unsupported_grant_type"})
            self._token_answer(req, user, form.get("scope", "").split(), refresh)

    return Handler
