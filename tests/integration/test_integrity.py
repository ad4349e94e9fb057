"""Never publish bytes that do not match their digest, and leave no upload session behind when
interrupted.

A layout blob whose bytes differ from its digest (same size) is pushed to a registry that does
not verify digests (FakeRegistry(verify_digests=False)): the request carrying its last bytes
never completes, the session is cancelled, nothing is published. The same against the real
registry. SIGINT and SIGTERM during a slow upload (a throttling proxy in front of the real
registry) cancel the session (the registry logs the DELETE) and exit 130 or 143."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import time

import pytest

from helpers import auth_of, login, write_config
from support import ALICE
from support.fake_registry import FakeRegistry
from support.fault_proxy import FaultProxy
from support.images import make_oci_layout

CHUNKED = ["--chunk-threshold", "0.05", "--chunk-size", "0.02"]  # ~20 KiB chunks above 50 KiB


def corrupt_layer(layout: str, image: dict, index: int = 0) -> tuple[str, str]:
    """Flips one byte of layer INDEX in place (same size); returns (digest, file path)."""
    digest = image["layers"][index]["digest"]
    path = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[len(data) // 2] ^= 0x01
        f.seek(0)
        f.write(data)
    return digest, path


def live_uploads(registry) -> list[tuple[str, str]]:
    """Upload sessions the registry could still resume: those with a startedat file. (After a
    DELETE, distribution 2.8 writes the session's hash state once more as it closes it, which
    leaves an empty husk, hashstates/ only, that no request can reach.)"""
    root = os.path.join(registry.storage_dir, "docker", "registry", "v2", "repositories")
    return [(repo, upload) for repo, upload in registry.uploads_on_disk()
            if os.path.exists(os.path.join(root, repo, "_uploads", upload, "startedat"))]


@pytest.fixture
def careless(config_dir):
    registry = FakeRegistry(verify_digests=False).start()
    write_config(config_dir, {"auths": {registry.hostport: {"auth": auth_of("u", "p")}}})
    yield registry
    registry.stop()


def assert_refused(result, digest, path):
    assert result.returncode == 9, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line, line
    assert digest in line and path in line
    assert "does not match its digest" in line and "nothing was published" in line


@pytest.mark.parametrize("flags", [[], CHUNKED], ids=["monolithic", "chunked"])
def test_corrupt_blob_never_completes_an_upload(run_regauth, config_dir, careless, tmp_path,
                                                flags):
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[200_000])
    digest, path = corrupt_layer(layout, image)
    result = run_regauth(["--config", config_dir, "--timeout", "10", "push", *flags, layout,
                          f"{careless.hostport}/t/app:1"], timeout=120)
    assert_refused(result, digest, path)
    assert digest not in careless.blobs
    assert careless.manifests == {}
    # No request that closes an upload under that digest ever arrived whole.
    closing = [r for r in careless.requests
               if r.method == "PUT" and r.query.get("digest") == [digest]]
    assert all(not r.complete for r in closing), closing
    if flags:
        assert closing == []  # chunked: the closing PUT is never sent
    assert len(careless.cancelled) == 1  # the session was cancelled (DELETE)
    assert careless.uploads == {}


@pytest.mark.parametrize("flags", [[], CHUNKED], ids=["monolithic", "chunked"])
def test_corrupt_blob_against_the_real_registry(run_regauth, token_registry, config_dir,
                                                tmp_path, flags):
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[3000, 100_000])
    digest, path = corrupt_layer(layout, image, 1)
    token_registry.clear_requests()
    result = run_regauth(["--config", config_dir, "push", *flags, layout,
                          f"{token_registry.hostport}/t/app:1"], timeout=120)
    assert_refused(result, digest, path)
    served = token_registry.requests()
    assert not any(r.method == "PUT" and "/manifests/" in r.path for r in served), served
    assert any(r.method == "DELETE" and "/blobs/uploads/" in r.path for r in served), served
    assert digest not in token_registry.blobs_on_disk()
    assert token_registry.manifests_on_disk() == {}
    if flags:
        # Chunked: the PATCH carrying the last byte failed before sending anything, so the
        # session's state still matched and the DELETE removed it.
        assert "the upload session was cancelled" in result.stderr, (result.stderr, served)
        assert live_uploads(token_registry) == [], served
    else:
        # Monolithic: distribution 2.8 refuses to cancel a session whose PUT was cut short
        # ("upload resumed at wrong offset"); regauth says so.
        assert ("the upload session was cancelled" in result.stderr
                or "cancelling the upload session failed" in result.stderr)


def test_an_intact_layout_still_pushes_through_the_careless_registry(run_regauth, config_dir,
                                                                     careless, tmp_path):
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[200_000, 10])
    result = run_regauth(["--config", config_dir, "push", *CHUNKED, layout,
                          f"{careless.hostport}/t/app:1"], timeout=120)
    assert result.returncode == 0, result.stderr
    for layer in image["layers"]:
        data = careless.blobs[layer["digest"]]
        assert "sha256:" + hashlib.sha256(data).hexdigest() == layer["digest"]
    assert careless.cancelled == []


# ---- interruption ------------------------------------------------------------------------------

@pytest.mark.parametrize("signum,code,name", [(signal.SIGINT, 130, "SIGINT"),
                                              (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_during_a_push_cancels_the_upload_session(regauth, run_regauth, token_registry,
                                                           config_dir, tmp_path, signum, code,
                                                           name):
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[4 << 20], seed=3)  # incompressible: ~4 MiB
    layer = image["layers"][0]["digest"]
    # 256 KiB/s: the layer would take 16 s; the signal comes once its upload has begun.
    with FaultProxy(token_registry.hostport, throttle=256 << 10) as proxy:
        assert login(run_regauth, config_dir, proxy.hostport, *ALICE).returncode == 0
        token_registry.clear_requests()
        proc = subprocess.Popen(
            [regauth, "--config", config_dir, "push", layout, f"{proxy.hostport}/t/big:1"],
            env=run_regauth.base_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not any(s.method == "POST" and s.status == 202 for s in proxy.seen):
                assert time.monotonic() < deadline, "the push never opened an upload session"
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            time.sleep(1.0)  # the PUT's body is flowing, slowly
            assert proc.poll() is None
            proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=10)
        seen = proxy.seen
    assert proc.returncode == code, stderr
    line = stderr.strip()
    assert "\n" not in line, line
    assert f"interrupted by {name}" in line and "the tag was not pushed" in line
    counts = re.search(r"(\d+) upload sessions? cancelled(?:, (\d+) refused)?", line)
    assert counts, line
    assert int(counts.group(1)) + int(counts.group(2) or 0) == 1, line
    served = token_registry.requests()
    deletes = [r for r in served if r.method == "DELETE" and "/blobs/uploads/" in r.path]
    assert deletes, served  # the registry saw the session's DELETE
    assert any(s.method == "DELETE" for s in seen)
    assert not any(s.method == "PUT" and s.complete and layer in s.path for s in seen), seen
    assert token_registry.manifests_on_disk() == {}
