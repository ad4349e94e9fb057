"""A real registry: Debian's `docker-registry` (distribution 2.8.2).

`Registry` writes a config, starts `docker-registry serve CONFIG` on
127.0.0.1:<free port>, waits until `GET /v2/` answers, and reads back what it
served from its access log (Apache combined format, one line per request).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import time
from typing import NamedTuple

REGISTRY_BIN = "/usr/bin/docker-registry"
HTPASSWD_BIN = "/usr/bin/htpasswd"

_READY_TIMEOUT = 10.0  # seconds for `GET /v2/` to answer
_STOP_TIMEOUT = 5.0  # seconds for SIGTERM before SIGKILL
_START_ATTEMPTS = 3  # retries when the free port got taken meanwhile
_SYNC_PATH = "/regauth-log-sync/"  # marker requests, hidden from requests()

# 127.0.0.1 - - [27/Nov/2026:07:07:41 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"
_ACCESS_LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) ')


class Served(NamedTuple):
    """One request the registry served, from its access log."""

    method: str
    path: str  # without the query string
    status: int
    query: str = ""  # the query string, without its "?" (digest=, mount=, from=)


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _yaml_str(s: str) -> str:
    """Double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(s)


class Registry:
    """A distribution 2.8.2 registry process.

    state_dir      where config, storage, log and auth files go (must exist
                   or be creatable; the caller owns cleanup, e.g. tmp_path).
    auth           'none' | 'htpasswd' | 'token'.
    users          for 'htpasswd': {name: password}.
    token_server   for 'token': a started TokenServer (realm, service,
                   issuer and rootcertbundle are taken from it).
    tls            (cert_path, key_path) to serve https.
    client_ca      with tls: a CA file; the registry then requires a client
                   certificate it signed (mutual TLS).
    client_cert    (cert_path, key_path) its own readiness probe presents.
    log_level      distribution log level ('info' is enough for the access log).
    """

    def __init__(
        self,
        state_dir: str,
        *,
        auth: str = "none",
        users: dict[str, str] | None = None,
        token_server=None,
        tls: tuple[str, str] | None = None,
        client_ca: str | None = None,
        client_cert: tuple[str, str] | None = None,
        log_level: str = "info",
        port: int = 0,
        address: str = "127.0.0.1",
    ):
        if auth not in ("none", "htpasswd", "token"):
            raise ValueError(f"unknown auth mode {auth!r}")
        if auth == "token" and token_server is None:
            raise ValueError("auth='token' needs a token_server")
        self.state_dir = os.path.abspath(state_dir)
        self.auth = auth
        self.users = dict(users or {})
        self.token_server = token_server
        self.tls = tls
        self.client_ca = client_ca
        self.client_cert = client_cert
        self.log_level = log_level
        self.storage_dir = os.path.join(self.state_dir, "storage")
        self.config_path = os.path.join(self.state_dir, "config.yml")
        self.log_path = os.path.join(self.state_dir, "registry.log")
        self.port = 0
        self.fixed_port = port  # listen on this port instead of a free one (e.g. 443)
        self.address = address  # a loopback address to listen on
        self._proc: subprocess.Popen | None = None
        self._log_file = None
        self._sync_seq = 0
        self._log_offset = 0  # requests() ignores log bytes before this

    # ---- addresses -------------------------------------------------------

    @property
    def hostport(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.hostport}"

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> "Registry":
        os.makedirs(self.storage_dir, exist_ok=True)
        if self.auth == "htpasswd":
            self._write_htpasswd()
        last_error = ""
        for _ in range(_START_ATTEMPTS):
            self.port = self.fixed_port or free_port()
            self._write_config()
            self._spawn()
            try:
                self._wait_ready()
                self.clear_requests()  # hide the readiness probes
                return self
            except RuntimeError as e:
                last_error = str(e)
                self.stop()
                if "address already in use" not in last_error:
                    break
        raise RuntimeError(last_error)

    def stop(self) -> None:
        """SIGTERM, wait (bounded), then SIGKILL."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=_STOP_TIMEOUT)
            self._proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "Registry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
        # Append: a retried start keeps the earlier attempt's log for debugging.
        self._log_file = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", self.config_path],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,  # access log
            stderr=subprocess.STDOUT,  # logrus messages
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            start_new_session=True,
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        error = "no answer"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited with {self._proc.returncode} before "
                    f"answering on {self.url}/v2/\n--- log tail ---\n{self.log_tail()}"
                )
            try:
                status, api_version = self._get("/v2/", timeout=1)
                # The header proves it is our registry, not whoever holds the port.
                if status in (200, 401) and api_version == "registry/2.0":
                    return
                error = f"GET /v2/ answered {status}, API version {api_version!r}"
            except OSError as e:
                error = repr(e)
            time.sleep(0.05)
        raise RuntimeError(
            f"docker-registry not ready on {self.url}/v2/ after {_READY_TIMEOUT}s "
            f"({error})\n--- log tail ---\n{self.log_tail()}"
        )

    def _get(self, path: str, timeout: float) -> tuple[int, str | None]:
        """Plain GET (no auth, no cert check) -> (status, API version header)."""
        if self.tls:
            ctx = ssl._create_unverified_context()
            if self.client_cert:
                ctx.load_cert_chain(*self.client_cert)
            conn = http.client.HTTPSConnection(self.address, self.port, timeout=timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection(self.address, self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("Docker-Distribution-Api-Version")
        finally:
            conn.close()

    # ---- config ----------------------------------------------------------

    def _write_htpasswd(self) -> None:
        lines = []
        for name, password in self.users.items():
            out = subprocess.run(
                [HTPASSWD_BIN, "-Bbn", name, password],
                check=True, capture_output=True, text=True, timeout=30,
            ).stdout
            lines.append(out.strip())
        with open(os.path.join(self.state_dir, "htpasswd"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _write_config(self) -> None:
        q = _yaml_str
        cfg = [
            "version: 0.1",
            "log:",
            f"  level: {self.log_level}",
            "  formatter: text",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {q(self.storage_dir)}",
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {q(self.hostport)}",
            f"  secret: {q(secrets.token_hex(16))}",
        ]
        if self.tls:
            cfg += [
                "  tls:",
                f"    certificate: {q(self.tls[0])}",
                f"    key: {q(self.tls[1])}",
            ]
            if self.client_ca:
                cfg += ["    clientcas:", f"      - {q(self.client_ca)}"]
        if self.auth == "htpasswd":
            cfg += [
                "auth:",
                "  htpasswd:",
                "    realm: regauth-test",
                f"    path: {q(os.path.join(self.state_dir, 'htpasswd'))}",
            ]
        elif self.auth == "token":
            ts = self.token_server
            cfg += [
                "auth:",
                "  token:",
                f"    realm: {q(ts.realm)}",
                f"    service: {q(ts.service)}",
                f"    issuer: {q(ts.issuer)}",
                f"    rootcertbundle: {q(ts.rootcertbundle)}",
            ]
        with open(self.config_path, "w") as f:
            f.write("\n".join(cfg) + "\n")

    # ---- what it served --------------------------------------------------

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return "(no log)"
        return "\n".join(data.decode(errors="replace").splitlines()[-lines:])

    def requests(self, sync: bool = True) -> list[Served]:
        """Requests served so far, in the order they completed.

        The access log line is written just after the response is sent, so a
        client may be done before its line is there.  With sync=True we send a
        marker request and wait (bounded) until it is logged first.
        """
        if sync and self._proc is not None and self._proc.poll() is None:
            self._sync_seq += 1
            marker = f"{_SYNC_PATH}{self._sync_seq}"
            self._get(marker, timeout=5)
            deadline = time.monotonic() + 5
            while f'"GET {marker} ' not in self._read_log():
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        "registry access log never showed the sync request\n"
                        f"--- log tail ---\n{self.log_tail()}"
                    )
                time.sleep(0.01)
        served = []
        for line in self._read_log().splitlines():
            m = _ACCESS_LINE.match(line)
            if not m:
                continue
            path, _, query = m.group(2).partition("?")
            if not path.startswith(_SYNC_PATH):
                served.append(Served(m.group(1), path, int(m.group(3)), query))
        return served

    def clear_requests(self) -> None:
        """Forget what was served so far: requests() starts from here."""
        self.requests()  # sync, so in-flight lines land before the cut
        self._log_offset = os.path.getsize(self.log_path)

    def _read_log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            return f.read().decode(errors="replace")

    # ---- what is on disk -------------------------------------------------

    @property
    def _v2(self) -> str:
        return os.path.join(self.storage_dir, "docker", "registry", "v2")

    def repositories(self) -> list[str]:
        """Repository names with any state on disk (uploads, layers, manifests)."""
        root = os.path.join(self._v2, "repositories")
        names = []
        for dirpath, dirnames, _ in os.walk(root):
            if any(d in ("_uploads", "_layers", "_manifests") for d in dirnames):
                names.append(os.path.relpath(dirpath, root))
                dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        return sorted(names)

    def blobs_on_disk(self) -> set[str]:
        """Digests ('sha256:...') of committed blobs (layers, configs, manifests)."""
        root = os.path.join(self._v2, "blobs")
        found = set()
        for dirpath, _, filenames in os.walk(root):
            if "data" in filenames:
                algo = os.path.basename(os.path.dirname(os.path.dirname(dirpath)))
                found.add(f"{algo}:{os.path.basename(dirpath)}")
        return found

    def uploads_on_disk(self) -> list[tuple[str, str]]:
        """(repository, upload uuid) of upload sessions still on disk."""
        root = os.path.join(self._v2, "repositories")
        found = []
        for repo in self.repositories():
            updir = os.path.join(root, repo, "_uploads")
            if os.path.isdir(updir):
                found += [(repo, u) for u in sorted(os.listdir(updir))]
        return found

    def manifests_on_disk(self) -> dict[str, dict[str, list[str]]]:
        """{repository: {'revisions': [digests], 'tags': [tags]}} for repos
        that have a manifest linked."""
        root = os.path.join(self._v2, "repositories")
        found = {}
        for repo in self.repositories():
            mdir = os.path.join(root, repo, "_manifests")
            revs = []
            for dirpath, _, filenames in os.walk(os.path.join(mdir, "revisions")):
                if "link" in filenames:
                    revs.append(
                        f"{os.path.basename(os.path.dirname(dirpath))}:{os.path.basename(dirpath)}"
                    )
            tagdir = os.path.join(mdir, "tags")
            tags = sorted(os.listdir(tagdir)) if os.path.isdir(tagdir) else []
            if revs or tags:
                found[repo] = {"revisions": sorted(revs), "tags": tags}
        return found
