"""A fault-injection soak: many pushes of small multi-layer images through a FaultProxy in front of
the real registry, a few at a time, all sharing one config.json, and a count of what came of them.

Used by `bench/soak` (the full run, 200+ pushes, figures in docs/reliability.md) and by
`tests/integration/test_soak.py` (a short run in CI). Every push is bounded in time; the whole
soak is bounded by the count of pushes. Outcomes:

    completed   exit 0, and the registry holds the tag naming the source's manifest, byte for
                byte, with every blob it references
    failed      a documented non-zero exit code (docs/exit-codes.md) and one clear error line
    wrong       anything else: a tag naming a manifest whose blobs are missing, a manifest that
                differs from the source, a hang past the timeouts, an undocumented exit code or
                an unclear error, a lost config entry, a secret in the output
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from . import ALICE
from .fault_proxy import FaultProxy
from .images import make_oci_layout

DOCUMENTED_FAILURES = {2, 3, 4, 5, 6, 7, 8, 9, 10}
DEFAULT_RATES = {"reset_before": 0.02, "reset_after": 0.02, "stall": 0.02, "500": 0.02,
                 "502": 0.02, "503": 0.02, "429": 0.02, "truncate": 0.02}
# Entries every push must find again at the end: other registries, other fields.
BYSTANDERS = {f"bystander-{i}.example:5000": {"auth": base64.b64encode(
    f"user{i}:pw{i}".encode()).decode()} for i in range(8)}


@dataclass
class Outcome:
    index: int
    reference: str
    returncode: int | None  # None: killed after the hang bound
    seconds: float
    stderr: str
    verdict: str = ""  # completed | failed | wrong
    why: str = ""


@dataclass
class SoakResult:
    outcomes: list[Outcome] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    config_ok: bool = True
    config_why: str = ""
    seconds: float = 0.0

    def count(self, verdict: str) -> int:
        return sum(1 for o in self.outcomes if o.verdict == verdict)

    def summary(self) -> str:
        codes: dict[int | None, int] = {}
        for o in self.outcomes:
            if o.verdict == "failed":
                codes[o.returncode] = codes.get(o.returncode, 0) + 1
        lines = [
            f"pushes: {len(self.outcomes)} in {self.seconds:.1f} s",
            f"completed: {self.count('completed')}",
            f"failed with a documented exit code and a clear error: {self.count('failed')}"
            + (f" (exit codes {dict(sorted(codes.items()))})" if codes else ""),
            f"wrong results: {self.count('wrong') + (0 if self.config_ok else 1)}",
            f"requests through the proxy: {self.requests}; faults injected: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
        ]
        for o in self.outcomes:
            if o.verdict == "wrong":
                lines.append(f"  WRONG push {o.index} {o.reference}: {o.why}")
        if not self.config_ok:
            lines.append(f"  WRONG config.json: {self.config_why}")
        return "\n".join(lines)


def _registry_get(registry, method: str, path: str, headers: dict | None = None
                  ) -> tuple[int, bytes, dict]:
    """Straight to the registry (not through the proxy), with a token of its own."""
    host, _, port = registry.hostport.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def _token(token_server, repository: str) -> str:
    realm = token_server.realm
    query = f"?service={token_server.service}&scope=repository:{repository}:pull"
    host_port = realm.split("://", 1)[1].split("/", 1)[0]
    path = "/" + realm.split("://", 1)[1].split("/", 1)[1] + query
    host, _, port = host_port.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    auth = base64.b64encode(f"{ALICE[0]}:{ALICE[1]}".encode()).decode()
    try:
        conn.request("GET", path, headers={"Authorization": f"Basic {auth}"})
        return json.loads(conn.getresponse().read())["token"]
    finally:
        conn.close()


def _check_tag(registry, token_server, repository: str, tag: str, manifest: bytes,
               media_type: str) -> str:
    """'' when the registry's tag names exactly `manifest` and holds every blob it lists."""
    bearer = {"Authorization": "Bearer " + _token(token_server, repository)}
    status, body, _ = _registry_get(registry, "GET", f"/v2/{repository}/manifests/{tag}",
                                    {**bearer, "Accept": media_type})
    if status != 200:
        return f"GET manifest {tag}: {status}"
    if body != manifest:
        return "the tag names a manifest that differs from the source"
    document = json.loads(body)
    for blob in [document["config"], *document.get("layers", [])]:
        status, _, _ = _registry_get(registry, "HEAD", f"/v2/{repository}/blobs/{blob['digest']}",
                                     bearer)
        if status != 200:
            return f"blob {blob['digest']} of the tagged manifest is missing ({status})"
    return ""


def _clear(stderr: str) -> bool:
    """One error line, optionally followed by a hint line; warnings may come first."""
    lines = [line for line in stderr.splitlines()
             if line and not line.startswith("regauth: warning:")]
    errors = [line for line in lines if line.startswith("regauth: error: ")]
    rest = [line for line in lines if not line.startswith("regauth: error: ")
            and not line.startswith("hint: ")]
    return len(errors) == 1 and not rest


def run_soak(*, regauth: str, registry, token_server, workdir: str, pushes: int, parallel: int = 4,
             seed: int = 11, rates: dict[str, float] | None = None, stall_seconds: float = 2.0,
             timeout: float = 5.0, hang_bound: float = 120.0, images: int = 12,
             env: dict | None = None, log=None) -> SoakResult:
    """Runs the soak and returns its figures; `log(str)` gets one line per push."""
    result = SoakResult()
    started = time.monotonic()
    config_dir = os.path.join(workdir, "config")
    os.makedirs(config_dir, exist_ok=True)
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir,
                **{k: os.environ[k] for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
                   if k in os.environ}, **(env or {})}
    secrets = [ALICE[1], base64.b64encode(f"{ALICE[0]}:{ALICE[1]}".encode()).decode()]

    # Small multi-layer images (2 to 4 layers of 1 to 60 KiB), reproducible from the seed.
    layouts = []
    for i in range(images):
        layout = os.path.join(workdir, f"image-{i}")
        sizes = [1024 + (seed * 7919 + i * 104729 + j * 15485863) % (60 * 1024)
                 for j in range(2 + i % 3)]
        image = make_oci_layout(layout, sizes, tag="soak", seed=seed * 1000 + i)
        with open(os.path.join(layout, "blobs", "sha256",
                               image["manifest"]["digest"].split(":", 1)[1]), "rb") as f:
            layouts.append((layout, f.read()))

    with FaultProxy(registry.hostport, seed=seed, rates=DEFAULT_RATES if rates is None else rates,
                    stall_seconds=stall_seconds) as proxy:
        host = proxy.hostport
        config = {"auths": {host: {"auth": base64.b64encode(
            f"{ALICE[0]}:{ALICE[1]}".encode()).decode()}, **BYSTANDERS},
            "HttpHeaders": {"X-Soak": "kept"}, "detachKeys": "ctrl-e,e"}
        with open(os.path.join(config_dir, "config.json"), "w") as f:
            json.dump(config, f, indent="\t")
        os.chmod(os.path.join(config_dir, "config.json"), 0o600)
        lock = threading.Lock()

        def one(index: int) -> Outcome:
            layout, _ = layouts[index % len(layouts)]
            repository = f"soak/r{index % 7}"
            reference = f"{host}/{repository}:t{index}"
            argv = [regauth, "--config", config_dir, "--timeout", str(timeout), "push",
                    f"oci:{layout}:soak", reference]
            if index % 10 == 9:
                # Every tenth job is a login through the proxy first: config.json is written
                # while the other jobs read it.
                login = subprocess.run(
                    [regauth, "--config", config_dir, "--timeout", str(timeout), "login", "-u",
                     ALICE[0], "--password-stdin", host], input=ALICE[1] + "\n",
                    env=base_env, capture_output=True, text=True, timeout=hang_bound)
                for text in (login.stdout, login.stderr):
                    if any(s in text for s in secrets):
                        return Outcome(index, reference, login.returncode, 0.0, login.stderr,
                                       "wrong", "a secret in the login's output")
            begin = time.monotonic()
            proc = subprocess.Popen(argv, env=base_env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                stdout, stderr = proc.communicate(timeout=hang_bound)
                code: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                stdout, stderr = proc.communicate(timeout=10)
                code = None
            outcome = Outcome(index, reference, code, time.monotonic() - begin, stderr)
            if log:
                with lock:
                    log(f"push {index:4d} exit {code} in {outcome.seconds:5.1f} s "
                        f"{stderr.strip().splitlines()[-1][:150] if stderr.strip() else ''}")
            if any(s in text for s in secrets for text in (stdout, stderr)):
                outcome.verdict, outcome.why = "wrong", "a secret in the output"
            elif code is None:
                outcome.verdict, outcome.why = "wrong", f"no exit after {hang_bound:.0f} s"
            elif code == 0:
                outcome.verdict = "completed"
            elif code in DOCUMENTED_FAILURES and _clear(stderr):
                outcome.verdict = "failed"
            else:
                outcome.verdict = "wrong"
                outcome.why = f"exit {code}, stderr {stderr.strip()[:300]!r}"
            return outcome

        with ThreadPoolExecutor(max_workers=parallel) as pool:
            result.outcomes = list(pool.map(one, range(pushes)))
        seen = proxy.seen
    result.requests = len(seen)
    for s in seen:
        if s.fault:
            result.faults[s.fault] = result.faults.get(s.fault, 0) + 1

    # Every tag in the registry (completed pushes, and failed ones whose manifest got there
    # before the answer was lost) names the source's manifest with all its blobs.
    for outcome in result.outcomes:
        if outcome.verdict == "wrong":
            continue
        _, manifest = layouts[outcome.index % len(layouts)]
        repository, tag = outcome.reference.split("/", 1)[1].rsplit(":", 1)
        why = _check_tag(registry, token_server, repository, tag, manifest,
                         json.loads(manifest)["mediaType"])
        if outcome.verdict == "completed" and why:
            outcome.verdict, outcome.why = "wrong", why
        elif outcome.verdict == "failed" and why and not why.startswith("GET manifest"):
            outcome.verdict, outcome.why = "wrong", "after a failed push: " + why

    # config.json: every entry and field still there, private, valid JSON.
    path = os.path.join(config_dir, "config.json")
    try:
        with open(path) as f:
            after = json.load(f)
        missing = [k for k in [host, *BYSTANDERS] if k not in after.get("auths", {})]
        if missing:
            result.config_ok, result.config_why = False, f"entries lost: {missing}"
        elif after.get("HttpHeaders") != {"X-Soak": "kept"} or after.get("detachKeys") != \
                "ctrl-e,e":
            result.config_ok, result.config_why = False, "a field was lost"
        elif os.stat(path).st_mode & 0o077:
            result.config_ok, result.config_why = False, "permissions widened"
    except (OSError, ValueError) as e:
        result.config_ok, result.config_why = False, f"unreadable: {e}"
    result.seconds = time.monotonic() - started
    return result
