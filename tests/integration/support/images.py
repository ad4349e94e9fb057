"""Tiny images built by hand (no container tools needed).

- `make_oci_layout(dir, layer_sizes, tag)`: an OCI image layout holding one
  image (skopeo/regauth source `oci:DIR:TAG`, or `oci:DIR`).
- `make_oci_index(dir, platforms, tag)`: an OCI layout whose single entry is
  an image index with one image per platform.
- `make_docker_archive(path, layer_sizes, tag)`: a `docker save` tarball
  (`docker-archive:PATH`).

Layer contents are random, so every call makes distinct blobs.  The
functions return descriptors ({'digest', 'size'}) so tests can look for
them in a registry's storage.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Sequence

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer_tar(index: int, size: int) -> bytes:
    """An uncompressed tar with one file of SIZE random bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"layer-{index}.bin")
        info.size, info.mtime, info.mode = size, 0, 0o644
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    return buf.getvalue()


def _config(diff_ids: list[str], platform: str = "linux/amd64") -> bytes:
    os_name, _, arch = platform.partition("/")
    return json.dumps({
        "architecture": arch,
        "os": os_name,
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "regauth test"} for _ in diff_ids],
    }).encode()


class _Blobs:
    """blobs/sha256/ of an OCI layout."""

    def __init__(self, layout: str):
        self.dir = os.path.join(layout, "blobs", "sha256")
        os.makedirs(self.dir, exist_ok=True)

    def put(self, data: bytes, media_type: str | None = None) -> dict:
        digest = sha256(data)
        with open(os.path.join(self.dir, digest.split(":", 1)[1]), "wb") as f:
            f.write(data)
        desc = {"digest": digest, "size": len(data)}
        return {"mediaType": media_type, **desc} if media_type else desc


def _image(blobs: _Blobs, layer_sizes: Sequence[int], platform: str = "linux/amd64") -> dict:
    """Write layers, config and manifest blobs; return their descriptors."""
    layers, diff_ids = [], []
    for i, size in enumerate(layer_sizes):
        tar = _layer_tar(i, size)
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
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{**entry, "annotations": {REF_NAME: tag}}],
        }, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def make_oci_layout(dir: str, layer_sizes: Sequence[int] = (1000,), tag: str = "latest") -> dict:
    """One image in an OCI layout.  Returns {'manifest', 'config', 'layers'
    (descriptors), 'diff_ids'}."""
    image = _image(_Blobs(dir), list(layer_sizes))
    _finish_layout(dir, image["manifest"], tag)
    return image


def make_oci_index(dir: str, platforms: list[str], layer_sizes: Sequence[int] = (1000,),
                   tag: str = "latest") -> dict:
    """An image index with one image per platform ('os/arch'), as the single
    entry of an OCI layout.  Returns {'index': descriptor, 'images':
    {platform: image as make_oci_layout returns}}."""
    blobs = _Blobs(dir)
    images, entries = {}, []
    for platform in platforms:
        image = _image(blobs, list(layer_sizes), platform)
        os_name, _, arch = platform.partition("/")
        entries.append({**image["manifest"],
                        "platform": {"os": os_name, "architecture": arch}})
        images[platform] = image
    index = blobs.put(json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    }).encode(), OCI_INDEX)
    _finish_layout(dir, index, tag)
    return {"index": index, "images": images}


def make_docker_archive(path: str, layer_sizes: Sequence[int] = (1000,),
                        tag: str = "app:latest") -> dict:
    """A `docker save`-style tarball with uncompressed layers.  Returns
    {'config': descriptor, 'diff_ids': [...]}."""
    layers = [_layer_tar(i, size) for i, size in enumerate(layer_sizes)]
    diff_ids = [sha256(t) for t in layers]
    config = _config(diff_ids)
    config_name = sha256(config).split(":", 1)[1] + ".json"
    layer_names = [d.split(":", 1)[1] + "/layer.tar" for d in diff_ids]
    manifest = json.dumps([{
        "Config": config_name,
        "RepoTags": [tag],
        "Layers": layer_names,
    }]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in [(config_name, config), *zip(layer_names, layers),
                           ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return {"config": {"digest": sha256(config), "size": len(config)}, "diff_ids": diff_ids}
