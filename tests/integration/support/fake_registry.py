"""A scriptable Registry v2 for faults no real registry produces on demand.

It implements just enough of the push protocol (ping, token, HEAD, POST/PATCH/PUT uploads with
Range, manifests) over FixtureServer, checks bearer tokens, verifies digests, and lets a test
inject faults: odd upload Locations, PATCH answers of 201/204, a 401/429/reset on the Nth
request of a kind, tokens revoked mid-upload.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import uuid

from .fixture_server import FixtureServer, Reply, Request


class FakeRegistry:
    def __init__(self, *, location_style: str = "relative", patch_status: int = 202,
                 upload_server: FixtureServer | None = None, verify_digests: bool = True):
        self.location_style = location_style  # relative | absolute | other-origin | control
        self.patch_status = patch_status
        self.upload_server = upload_server  # serves uploads for location_style other-origin
        self.faults: dict[str, list] = {}  # "PATCH" -> [Reply or "revoke", ...] for the next ones
        self.always_401 = False
        # False: a careless registry that stores whatever bytes a completed PUT brings under the
        # digest the client names. A PUT whose body did not arrive whole is never completed.
        self.verify_digests = verify_digests
        self.cancelled: list[str] = []  # upload ids a DELETE ended
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.uploads: dict[str, bytearray] = {}
        self.valid_tokens: set[str] = set()
        self.token_count = 0
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.server = FixtureServer(self.route)

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> "FakeRegistry":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def hostport(self) -> str:
        return self.server.hostport

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def inject(self, method: str, *replies) -> None:
        """The next requests of `method` get these replies (a Reply, "revoke" to invalidate
        every token first and then answer normally, or None to answer normally)."""
        self.faults.setdefault(method, []).extend(replies)

    # ---- routing ---------------------------------------------------------

    def _challenge(self, error: str = "") -> Reply:
        value = f'Bearer realm="http://{self.hostport}/token",service="fake"'
        if error:
            value += f',error="{error}"'
        return Reply(401, [("WWW-Authenticate", value), ("Content-Type", "application/json")],
                     b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.valid_tokens

    def _location(self, upload_id: str) -> str:
        path = f"/v2/upload/{upload_id}?_state={uuid.uuid4().hex}"
        if self.location_style == "absolute":
            return f"http://{self.hostport}{path}"
        if self.location_style == "other-origin":
            return f"http://{self.upload_server.hostport}{path}"
        if self.location_style == "control":
            return f"/v2/upload/{upload_id}\x01\x7f?_state=x"
        return path

    def route(self, request: Request) -> Reply:
        with self._lock:
            return self._route(request)

    def _route(self, request: Request) -> Reply:
        if request.path == "/token":
            self.token_count += 1
            token = f"tok-{next(self._counter)}"
            self.valid_tokens.add(token)
            return Reply(200, [("Content-Type", "application/json")],
                         json.dumps({"token": token, "expires_in": 300}).encode())
        pending = self.faults.get(request.method)
        if pending:
            fault = pending.pop(0)
            if fault == "revoke":
                self.valid_tokens.clear()
            elif fault is not None:  # None: this one is answered normally
                return fault
        if request.path == "/v2/":
            return self._challenge()
        if self.always_401 or not self._authorized(request):
            return self._challenge("invalid_token")
        return self._serve(request)

    def serve_upload(self, request: Request) -> Reply:
        """For the upload server of location_style other-origin (no auth there)."""
        with self._lock:
            return self._serve(request)

    def _serve(self, request: Request) -> Reply:
        parts = request.path.split("/")
        if request.method == "HEAD" and "/blobs/" in request.path:
            digest = parts[-1]
            if digest in self.blobs:
                return Reply(200, [("Content-Length", str(len(self.blobs[digest]))),
                                   ("Docker-Content-Digest", digest)])
            return Reply(404)
        if request.method == "POST" and request.path.endswith("/blobs/uploads/"):
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = bytearray()
            return Reply(202, [("Location", self._location(upload_id)), ("Range", "0-0")])
        if request.path.startswith("/v2/upload/"):
            upload_id = parts[-1]
            data = self.uploads.get(upload_id)
            if data is None:
                return Reply(404)
            if request.method == "PATCH":
                if not request.complete:
                    return Reply(400, [], b'{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}')
                data.extend(request.body)
                return Reply(self.patch_status, [("Location", self._location(upload_id)),
                                                 ("Range", f"0-{len(data) - 1}")])
            if request.method == "GET":
                return Reply(204, [("Location", self._location(upload_id)),
                                   ("Range", f"0-{max(len(data) - 1, 0)}")])
            if request.method == "PUT":
                if not request.complete:
                    return Reply(400, [], b'{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}')
                data.extend(request.body)
                digest = request.query.get("digest", [""])[0]
                actual = "sha256:" + hashlib.sha256(bytes(data)).hexdigest()
                if digest != actual and self.verify_digests:
                    return Reply(400, [], b'{"errors":[{"code":"DIGEST_INVALID"}]}')
                self.blobs[digest] = bytes(data)
                del self.uploads[upload_id]
                return Reply(201, [("Location", f"/v2/x/blobs/{digest}"),
                                   ("Docker-Content-Digest", digest)])
            if request.method == "DELETE":
                del self.uploads[upload_id]
                self.cancelled.append(upload_id)
                return Reply(204)
        if request.method == "PUT" and "/manifests/" in request.path:
            digest = "sha256:" + hashlib.sha256(request.body).hexdigest()
            self.manifests[parts[-1]] = request.body
            return Reply(201, [("Docker-Content-Digest", digest)])
        return Reply(404)
