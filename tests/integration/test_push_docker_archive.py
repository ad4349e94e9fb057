"""A docker-archive push takes its layer digests from what the archive states (the config's
diff_ids, or `blobs/sha256/<hex>` names) instead of hashing every layer before the push; the
bytes are still checked as they stream. A tarball whose layer bytes changed after `docker save`
(same size, so the tar stays valid) is refused, with or without compression, and nothing is
published."""

from __future__ import annotations

import tarfile

import pytest

from helpers import login
from support import ALICE
from support.images import make_docker_archive


def alter_layer(path: str, index: int = 0) -> str:
    """Flips one byte in the middle of layer INDEX's data, in place (same size); returns the
    layer's name inside the archive."""
    with tarfile.open(path) as tar:
        layers = [m for m in tar.getmembers() if m.name.endswith("/layer.tar")]
        member = layers[index]
    # Past the inner tar's 512-byte header and pax records: inside the layer's one file.
    offset = member.offset_data + member.size // 2
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x01]))
    return member.name


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_a_docker_archive_whose_layer_changed_is_refused(run_regauth, token_registry,
                                                          config_dir, tmp_path, compression):
    path = str(tmp_path / "image.tar")
    info = make_docker_archive(path, layer_sizes=[3000, 150_000], tag="app:1", seed=13)
    name = alter_layer(path, 1)
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    token_registry.clear_requests()
    result = run_regauth(["--config", config_dir, "push", "--compression", compression,
                          f"docker-archive:{path}", f"{token_registry.hostport}/team/altered:1"],
                         env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=120)
    assert result.returncode == 9, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line, line
    assert "does not match its digest" in line, line
    # The digest the archive states (the diff_id) and where the bytes came from.
    assert info["diff_ids"][1] in line and name in line, line
    served = token_registry.requests()
    assert not any(r.method == "PUT" and "/manifests/" in r.path for r in served), served
    assert info["diff_ids"][1] not in token_registry.blobs_on_disk()
    assert token_registry.manifests_on_disk() == {}
