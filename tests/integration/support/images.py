"""Tiny images built by hand (no container tools needed).

- `make_oci_layout(dir, layer_sizes | layers, tag)`: an OCI image layout
  holding one image (skopeo/regauth source `oci:DIR:TAG`, or `oci:DIR`).
  Calling it again on the same folder adds another tagged image.
- `make_oci_index(dir, platforms, tag)`: an OCI layout whose entry is an
  image index with one image per platform ('os/arch' or 'os/arch/variant').
- `make_docker_archive(path, layer_sizes, tag)`: a legacy `docker save`
  tarball (`docker-archive:PATH`): manifest.json, `<hex>.json` config,
  `<id>/layer.tar`, `<id>/VERSION`, `<id>/json`, repositories.

Every layer is a real tar with one file.  Its contents are random: fresh
(os.urandom) with `seed=None`, so every call makes distinct blobs, or
reproducible for an integer seed.  `layers=[b"..."]` gives the file contents
instead.  OCI layers are gzip-compressed (mtime 0); docker-archive layers
are not.  The functions return descriptors ({'mediaType'?, 'digest',
'size'}) so tests can look for them in a registry's storage.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import tarfile
from collections.abc import Sequence

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


def _contents(layer_sizes: Sequence[int], layers: Sequence[bytes] | None,
              seed: int | None, salt: str = "") -> list[bytes]:
    """The file contents of each layer: LAYERS as given, else random bytes of
    each size, reproducible when SEED is an integer."""
    if layers is not None:
        return [bytes(data) for data in layers]
    if seed is None:
        return [os.urandom(size) for size in layer_sizes]
    # String seeds are hashed with SHA-512, the same in every Python process.
    return [random.Random(f"{seed}:{salt}:{i}").randbytes(size)
            for i, size in enumerate(layer_sizes)]


def _layer_tar(index: int, data: bytes) -> bytes:
    """An uncompressed tar with one file holding DATA, byte-for-byte reproducible."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"layer-{index}.bin")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _split_platform(platform: str) -> dict:
    """'linux/arm64/v8' -> {'os', 'architecture', 'variant'?}."""
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"platform {platform!r}: expected os/arch or os/arch/variant")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        out["variant"] = parts[2]
    return out


def _config(diff_ids: list[str], platform: str = "linux/amd64") -> bytes:
    return json.dumps({
        **_split_platform(platform),
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "regauth test"}
                    for _ in diff_ids],
    }).encode()


class _Blobs:
    """blobs/sha256/ of an OCI layout."""

    def __init__(self, layout: str):
        self.dir = os.path.join(layout, "blobs", "sha256")
        os.makedirs(self.dir, exist_ok=True)

    def put(self, data: bytes, media_type: str | None = None) -> dict:
        digest = sha256(data)
        with open(os.path.join(self.dir, _hex(digest)), "wb") as f:
            f.write(data)
        desc = {"digest": digest, "size": len(data)}
        return {"mediaType": media_type, **desc} if media_type else desc


def _image(blobs: _Blobs, contents: list[bytes], platform: str = "linux/amd64") -> dict:
    """Write layers, config and manifest blobs; return their descriptors."""
    layers, diff_ids = [], []
    for i, data in enumerate(contents):
        tar = _layer_tar(i, data)
        diff_ids.append(sha256(tar))
        layers.append(blobs.put(gzip.compress(tar, mtime=0), OCI_LAYER))
    config = blobs.put(_config(diff_ids, platform), OCI_CONFIG)
    manifest = blobs.put(json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    }).encode(), OCI_MANIFEST)
    return {"manifest": manifest, "config": config, "layers": layers, "diff_ids": diff_ids}


def _finish_layout(layout: str, entry: dict, tag: str) -> None:
    """Lists ENTRY in index.json under TAG, replacing an entry with that tag
    and keeping the others."""
    path = os.path.join(layout, "index.json")
    entries = []
    if os.path.exists(path):
        with open(path) as f:
            entries = [e for e in json.load(f).get("manifests", [])
                       if e.get("annotations", {}).get(REF_NAME) != tag]
    entries.append({**entry, "annotations": {REF_NAME: tag}})
    with open(path, "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def make_oci_layout(dir: str, layer_sizes: Sequence[int] = (1000,), tag: str = "latest",
                    *, layers: Sequence[bytes] | None = None, seed: int | None = None,
                    platform: str = "linux/amd64") -> dict:
    """One image in an OCI layout, tagged TAG.  LAYERS, when given, are the
    file contents of each layer (and LAYER_SIZES is ignored).  Returns
    {'manifest', 'config', 'layers' (descriptors), 'diff_ids'}."""
    image = _image(_Blobs(dir), _contents(layer_sizes, layers, seed), platform)
    _finish_layout(dir, image["manifest"], tag)
    return image


def make_oci_index(dir: str, platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
                   layer_sizes: Sequence[int] = (1000,), tag: str = "latest",
                   *, seed: int | None = None) -> dict:
    """An image index with one image per platform, listed in the OCI layout
    under TAG.  Each platform gets its own layers.  Returns {'index':
    descriptor, 'images': {platform: image as make_oci_layout returns}}."""
    blobs = _Blobs(dir)
    images, entries = {}, []
    for platform in platforms:
        image = _image(blobs, _contents(layer_sizes, None, seed, platform), platform)
        entries.append({**image["manifest"], "platform": _split_platform(platform)})
        images[platform] = image
    index = blobs.put(json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    }).encode(), OCI_INDEX)
    _finish_layout(dir, index, tag)
    return {"index": index, "images": images}


def make_docker_archive(path: str, layer_sizes: Sequence[int] = (1000,), tag: str = "app:1",
                        *, layers: Sequence[bytes] | None = None,
                        seed: int | None = None) -> dict:
    """A legacy `docker save` tarball with uncompressed layers, in the entry
    order docker writes.  Returns {'config': descriptor, 'layers':
    descriptors of each layer.tar, 'diff_ids': [...]} (the diff_ids are the
    layers' digests, the tars being uncompressed)."""
    tars = [_layer_tar(i, data) for i, data in enumerate(_contents(layer_sizes, layers, seed))]
    diff_ids = [sha256(t) for t in tars]
    config = _config(diff_ids)
    config_name = _hex(sha256(config)) + ".json"

    # Legacy v1 layer ids: a chain over the diff_ids, like docker's.
    entries: list[tuple[str, bytes]] = []
    layer_names, parent = [], ""
    for diff_id, tar in zip(diff_ids, tars):
        layer_id = _hex(sha256(f"{parent}\n{diff_id}".encode()))
        v1 = {"id": layer_id, "created": "1970-01-01T00:00:00Z", "config": {}}
        if parent:
            v1["parent"] = parent
        entries += [(f"{layer_id}/VERSION", b"1.0"),
                    (f"{layer_id}/json", json.dumps(v1).encode()),
                    (f"{layer_id}/layer.tar", tar)]
        layer_names.append(f"{layer_id}/layer.tar")
        parent = layer_id
    entries.append((config_name, config))
    entries.append(("manifest.json", json.dumps([{
        "Config": config_name,
        "RepoTags": [tag],
        "Layers": layer_names,
    }]).encode()))
    repository, version = tag, "latest"
    if ":" in tag.rsplit("/", 1)[-1]:
        repository, _, version = tag.rpartition(":")
    entries.append(("repositories", json.dumps({repository: {version: parent}}).encode()))

    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for directory in dict.fromkeys(n.split("/")[0] for n, _ in entries if "/" in n):
            info = tarfile.TarInfo(directory)
            info.type, info.mtime, info.mode = tarfile.DIRTYPE, 0, 0o755
            tar.addfile(info)
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return {
        "config": {"digest": sha256(config), "size": len(config)},
        "layers": [{"digest": d, "size": len(t)} for d, t in zip(diff_ids, tars)],
        "diff_ids": diff_ids,
    }
