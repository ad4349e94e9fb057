"""push compresses the layers a docker-archive holds uncompressed: media types, diff_ids,
skopeo reading back, zstd, --compression none, and the blob-info cache on a re-push."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import stat
import subprocess
import urllib.parse
import zlib

import pytest

from helpers import login
from support import ALICE
from support.images import make_docker_archive

GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
TAR = "application/vnd.oci.image.layer.v1.tar"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_contents() -> list[bytes]:
    """Compressible, not random: text as a layer's files hold it."""
    text = b"".join(b"line %d of a configuration file, with words that repeat\n" % i
                    for i in range(6000))
    return [text, text[::-1] + b"tail"]


def push(run_regauth, config_dir, cache, source, reference, *extra):
    return run_regauth(["--config", config_dir, "push", "--format", "json", *extra, source,
                        reference], env={"XDG_CACHE_HOME": str(cache)}, timeout=300)


def events(result, name):
    return [e for e in map(json.loads, result.stdout.splitlines()) if e["event"] == name]


def copy_back(registry, reference, out):
    """skopeo copies the pushed image into an OCI layout; returns (manifest, config, layers)."""
    copied = subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", "--src-creds", "alice:alicepw",
         f"docker://{reference}", f"oci:{out}:back"], capture_output=True, text=True,
        timeout=120)
    assert copied.returncode == 0, copied.stderr
    index = json.loads((out / "index.json").read_text())

    def blob(digest):
        return (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()
    manifest = json.loads(blob(index["manifests"][0]["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    return manifest, config, [blob(layer["digest"]) for layer in manifest["layers"]]


@pytest.fixture
def archive(tmp_path):
    path = str(tmp_path / "image.tar")
    info = make_docker_archive(path, layers=layer_contents(), tag="app:1")
    return path, info


@pytest.mark.requires("skopeo")
def test_docker_archive_layers_go_out_gzip_and_decompress_to_the_diff_ids(
        run_regauth, token_registry, config_dir, tmp_path, archive):
    path, info = archive
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/packed:1"
    result = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}", ref)
    assert result.returncode == 0, result.stderr
    # one event per layer, as each finishes (in any order)
    compressed = {e["diff_id"]: e for e in events(result, "compressed")}
    assert sorted(compressed) == sorted(info["diff_ids"])
    assert all(not e["cached"] and e["detail"] == GZIP for e in compressed.values())

    manifest, config, layers = copy_back(token_registry, ref, tmp_path / "back")
    assert config["rootfs"]["diff_ids"] == info["diff_ids"]
    assert [layer["mediaType"] for layer in manifest["layers"]] == [GZIP, GZIP]
    for descriptor, data, diff_id in zip(manifest["layers"], layers, info["diff_ids"]):
        e = compressed[diff_id]
        assert sha256(data) == descriptor["digest"] == e["digest"]
        assert len(data) == descriptor["size"] < len(layer_contents()[0]) // 4
        assert sha256(gzip.decompress(data)) == diff_id
    # the config blob is the archive's own, unchanged
    assert manifest["config"]["digest"] == info["config"]["digest"]

    cache = tmp_path / "cache" / "regauth" / "blob-info.json"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert "alicepw" not in cache.read_text()


@pytest.mark.requires("skopeo")
def test_a_re_push_takes_compressed_digests_from_the_cache(
        run_regauth, token_registry, config_dir, tmp_path, archive):
    path, info = archive
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    cache = tmp_path / "cache"
    ref = f"{token_registry.hostport}/team/cached:1"
    first = push(run_regauth, config_dir, cache, f"docker-archive:{path}", ref)
    assert first.returncode == 0, first.stderr
    token_registry.clear_requests()
    again = push(run_regauth, config_dir, cache, f"docker-archive:{path}", ref)
    assert again.returncode == 0, again.stderr
    assert [e["cached"] for e in events(again, "compressed")] == [True, True]
    assert sorted(e["digest"] for e in events(again, "compressed")) == \
        sorted(e["digest"] for e in events(first, "compressed"))
    assert events(again, "manifest_present"), again.stdout
    assert not [r for r in token_registry.requests() if r.method in ("PATCH", "PUT")]

    # A corrupt cache is ignored: the push compresses again, to the same digests.
    (cache / "regauth" / "blob-info.json").write_text("{not json")
    other = push(run_regauth, config_dir, cache, f"docker-archive:{path}",
                 f"{token_registry.hostport}/team/cached:2")
    assert other.returncode == 0, other.stderr
    assert [e["cached"] for e in events(other, "compressed")] == [False, False]
    assert sorted(e["digest"] for e in events(other, "compressed")) == \
        sorted(e["digest"] for e in events(first, "compressed"))


@pytest.mark.requires("skopeo")
def test_zstd_layers_use_the_oci_zstd_media_type(run_regauth, token_registry, config_dir,
                                                 tmp_path, archive):
    path, info = archive
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/zstd:1"
    result = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}", ref,
                  "--compression", "zstd")
    assert result.returncode == 0, result.stderr
    manifest, config, layers = copy_back(token_registry, ref, tmp_path / "back")
    assert config["rootfs"]["diff_ids"] == info["diff_ids"]
    assert [layer["mediaType"] for layer in manifest["layers"]] == [ZSTD, ZSTD]
    for data, diff_id in zip(layers, info["diff_ids"]):
        plain = subprocess.run(["zstd", "-d", "-c"], input=data, capture_output=True,
                               timeout=60, check=True).stdout
        assert sha256(plain) == diff_id


def test_compression_none_pushes_the_layers_as_they_are(run_regauth, token_registry, config_dir,
                                                        tmp_path, archive):
    path, info = archive
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/plain:1"
    result = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}", ref,
                  "--compression", "none")
    assert result.returncode == 0, result.stderr
    assert not events(result, "compressed")
    uploaded = {e["digest"]: e["detail"] for e in events(result, "blob_uploaded")}
    assert all(uploaded[d] == TAR for d in info["diff_ids"])
    # Nothing was compressed: the cache records only where the manifest went.
    saved = json.loads((tmp_path / "cache" / "regauth" / "blob-info.json").read_text())
    assert saved["compressed"] == {} and len(saved["locations"]) == 1


def test_an_unknown_compression_is_a_usage_error(run_regauth, config_dir, tmp_path, archive):
    path, _ = archive
    result = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}",
                  "127.0.0.1:1/team/x:1", "--compression", "lz4")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        'regauth: error: --compression "lz4": expected gzip, zstd or none']


def docker_flavoured_layout(directory) -> dict:
    """An OCI layout holding a Docker (schema 2) manifest whose one layer is an uncompressed
    tar (`application/vnd.docker.image.rootfs.diff.tar`)."""
    import io
    import tarfile
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = sha256(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = layer_contents()[0]
        info = tarfile.TarInfo("etc/words")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    layer = buffer.getvalue()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": put(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                    "digest": put(layer), "size": len(layer)}],
    }).encode()
    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "digest": put(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "1"}}]}))
    return {"diff_id": sha256(layer), "config": sha256(config)}


@pytest.mark.requires("skopeo")
@pytest.mark.parametrize("compression, manifest_type, layer_type", [
    ("gzip", "application/vnd.docker.distribution.manifest.v2+json",
     "application/vnd.docker.image.rootfs.diff.tar.gzip"),
    ("zstd", "application/vnd.oci.image.manifest.v1+json", ZSTD),
])
def test_an_oci_layout_with_docker_uncompressed_layers(run_regauth, token_registry, config_dir,
                                                       tmp_path, compression, manifest_type,
                                                       layer_type):
    info = docker_flavoured_layout(tmp_path / "layout")
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/flavour-{compression}:1"
    result = push(run_regauth, config_dir, tmp_path / "cache", f"oci:{tmp_path / 'layout'}:1",
                  ref, "--compression", compression)
    assert result.returncode == 0, result.stderr
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds",
                          "alice:alicepw", f"docker://{ref}"], capture_output=True, timeout=60)
    assert raw.returncode == 0, raw.stderr
    pushed = json.loads(raw.stdout)
    # Docker keeps its flavour with gzip; zstd turns the image into OCI, as skopeo does
    assert pushed["mediaType"] == manifest_type
    assert pushed["layers"][0]["mediaType"] == layer_type
    assert pushed["config"]["digest"] == info["config"]
    manifest, config, layers = copy_back(token_registry, ref, tmp_path / "back")
    assert config["rootfs"]["diff_ids"] == [info["diff_id"]]
    plain = gzip.decompress(layers[0]) if compression == "gzip" else subprocess.run(
        ["zstd", "-d", "-c"], input=layers[0], capture_output=True, timeout=60,
        check=True).stdout
    assert sha256(plain) == info["diff_id"]


def test_compressed_layers_stream_after_the_gate_in_three_requests_each(
        run_regauth, token_registry, config_dir, tmp_path, archive):
    """No layer is compressed before the registry allows the push; a new layer then costs a
    POST, one chunked PATCH and the PUT naming its digest, and nothing asks about the
    uncompressed digests."""
    path, info = archive
    ref = f"{token_registry.hostport}/team/streamed:1"
    refused = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}", ref)
    assert refused.returncode == 5, refused.stderr
    assert "unauthorized: authentication required" in refused.stderr
    assert not events(refused, "compressed")
    assert not (tmp_path / "cache" / "regauth").exists()
    assert not [r for r in token_registry.requests() if r.method in ("PATCH", "PUT")]

    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}", ref)
    assert result.returncode == 0, result.stderr
    compressed = [e["digest"] for e in events(result, "compressed")]
    served = [r for r in token_registry.requests() if "/blobs/" in r.path]
    assert not [r for r in served if any(d.split(":")[1] in r.path + r.query
                                         for d in info["diff_ids"])]
    patches = [r for r in served if r.method == "PATCH"]
    puts = [r for r in served if r.method == "PUT"]
    assert len(patches) == 2, served
    for digest in compressed:
        assert len([r for r in puts if digest.split(":")[1] in r.query]) == 1, (digest, puts)
    # the config's upload and the two layers' POSTs: no HEAD, no other request
    assert not [r for r in served if r.method == "HEAD"], served


def test_a_compressed_layer_that_does_not_match_its_digest_is_never_published(
        run_regauth, token_registry, config_dir, tmp_path):
    info = docker_flavoured_layout(tmp_path / "layout")
    blob = tmp_path / "layout" / "blobs" / "sha256" / info["diff_id"].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xff  # same size, other bytes
    blob.write_bytes(bytes(data))
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/corrupt:1"
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, tmp_path / "cache", f"oci:{tmp_path / 'layout'}:1",
                  ref, "--compression", "gzip")
    assert result.returncode == 9, result.stderr
    assert "does not match its digest" in result.stderr
    assert "cancelled" in result.stderr
    served = token_registry.requests()
    assert not [r for r in served if r.method == "PUT" and "/blobs/uploads/" in r.path
                and info["config"].split(":")[1] not in r.query]
    assert not [r for r in served if "/manifests/" in r.path and r.method == "PUT"]
    assert [r for r in served if r.method == "DELETE" and "/blobs/uploads/" in r.path]
    assert not events(result, "compressed")
    assert not (tmp_path / "cache" / "regauth").exists()


def test_compressed_uploads_resume_through_faults_and_publish_the_same_image(
        run_regauth, start_registry, config_dir, tmp_path):
    """The chunked PATCH of a layer compressed on the fly meets resets (before and after the
    registry got it) and 503s: the upload resumes at the registry's offset from the same
    compressed bytes, and every push that completes names exactly the image a clean push gives."""
    from support.fault_proxy import FaultProxy

    class PatchFaults(FaultProxy):
        def _draw(self, method: str) -> str:
            return super()._draw(method) if method == "PATCH" else ""

    registry = start_registry()  # no auth: the faults are the subject
    path = str(tmp_path / "image.tar")
    make_docker_archive(path, layers=[b"%d words to compress\n" % i * 40000 for i in range(2)],
                        tag="app:1")
    clean = push(run_regauth, config_dir, tmp_path / "cache-clean", f"docker-archive:{path}",
                 f"{registry.hostport}/faults/clean:1")
    assert clean.returncode == 0, clean.stderr
    expected = events(clean, "done")[0]["digest"]
    outcomes = []
    with PatchFaults(registry.hostport, seed=3, rates={"reset_before": 0.2, "reset_after": 0.2,
                                                       "503": 0.15}) as proxy:
        for i in range(6):
            # A fresh cache each time: every push compresses and uploads both layers.
            result = push(run_regauth, config_dir, tmp_path / f"cache-{i}",
                          f"docker-archive:{path}", f"{proxy.hostport}/faults/r{i}:1")
            outcomes.append(result)
        seen = proxy.seen
    faulted = [s for s in seen if s.fault]
    assert all(s.method == "PATCH" for s in faulted)
    assert {s.fault for s in faulted} == {"reset_before", "reset_after", "503"}, faulted
    completed = [r for r in outcomes if r.returncode == 0]
    assert completed, [r.stderr for r in outcomes]
    print(f"{len(completed)} of {len(outcomes)} completed; faults: {[s.fault for s in faulted]}")
    for result in outcomes:
        if result.returncode == 0:
            assert events(result, "done")[0]["digest"] == expected
        else:  # retries ran out: a clear network or server error, never a digest the registry refused
            assert result.returncode == 7, result.stderr
            assert "digest" not in result.stderr.lower(), result.stderr
    # a layer whose PATCH was faulted still completed in some push
    assert any(s.method == "PATCH" and not s.fault for s in seen)


@pytest.mark.requires("skopeo", "gzip")
def test_a_layer_of_several_chunks_is_one_gzip_member_that_gzip_and_python_read(
        run_regauth, token_registry, config_dir, tmp_path):
    # 2.5 MiB: three 1 MiB chunks joined into one deflate stream, text and random bytes.
    text = b"".join(b"file %d of a layer, with some words that repeat\n" % (i * 7919 % 99991)
                    for i in range(30000))
    layer = (text + random.Random(13).randbytes(600_000) + text)[:2_621_440]
    path = str(tmp_path / "big.tar")
    info = make_docker_archive(path, layers=[layer], tag="big:1")
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/big:1"
    result = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}", ref)
    assert result.returncode == 0, result.stderr
    _, config, layers = copy_back(token_registry, ref, tmp_path / "back")
    assert config["rootfs"]["diff_ids"] == info["diff_ids"]
    blob = layers[0]
    assert sha256(gzip.decompress(blob)) == info["diff_ids"][0]
    member = zlib.decompressobj(31)  # gzip only: one member, then nothing
    assert sha256(member.decompress(blob)) == info["diff_ids"][0]
    assert member.eof and member.unused_data == b""
    (tmp_path / "layer.gz").write_bytes(blob)
    tested = subprocess.run(["gzip", "-t", str(tmp_path / "layer.gz")], capture_output=True,
                            text=True, timeout=60)
    assert tested.returncode == 0 and tested.stderr == "", tested.stderr


def push_with_libdeflate_from(run_regauth, registry, config_dir, tmp_path, archive, lib,
                              repository):
    """Pushes ARCHIVE with LIB first on the library path; expects one error line, exit 10 (io),
    and nothing published; returns the line."""
    path, _ = archive
    assert login(run_regauth, config_dir, registry.hostport, *ALICE).returncode == 0
    result = run_regauth(["--config", config_dir, "push", f"docker-archive:{path}",
                          f"{registry.hostport}/{repository}:1"],
                         env={"XDG_CACHE_HOME": str(tmp_path / "cache"),
                              "LD_LIBRARY_PATH": str(lib)}, timeout=120)
    assert result.returncode == 10, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("regauth: error: "), result.stderr
    assert repository not in registry.manifests_on_disk()
    return lines[0]


def test_gzip_without_libdeflate_is_a_one_line_io_error(run_regauth, token_registry, config_dir,
                                                        tmp_path, archive):
    # An empty file first on the library path: the loader finds it and refuses it.
    broken = tmp_path / "lib"
    broken.mkdir()
    (broken / "libdeflate.so.0").write_bytes(b"")
    line = push_with_libdeflate_from(run_regauth, token_registry, config_dir, tmp_path, archive,
                                     broken, "team/nodeflate")
    assert "cannot load libdeflate.so.0: " in line and "file too short" in line, line


@pytest.mark.requires("cc")
def test_a_libdeflate_without_a_function_regauth_calls_is_a_one_line_io_error(
        run_regauth, token_registry, config_dir, tmp_path, archive):
    # A stand-in that has only libdeflate_alloc_compressor (another version, a broken install).
    partial = tmp_path / "lib"
    partial.mkdir()
    (partial / "stub.c").write_text("void *libdeflate_alloc_compressor(int l) { return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-Wl,-soname,libdeflate.so.0", "-o",
                    str(partial / "libdeflate.so.0"), str(partial / "stub.c")], check=True,
                   timeout=60)
    line = push_with_libdeflate_from(run_regauth, token_registry, config_dir, tmp_path, archive,
                                     partial, "team/partial")
    assert "cannot load libdeflate.so.0: it has no libdeflate_deflate_compress" in line, line
    assert "nothing was published" in line


def test_a_compressed_layer_is_shown_by_its_diff_id_on_a_push_and_a_re_push(
        run_regauth, token_registry, config_dir, tmp_path, archive):
    """As `docker push` shows layers: by the short diff_id, whether the layer was compressed on
    the way or the blob-info cache knew it."""
    path, info = archive
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/shown:1"
    shown = []
    for _ in range(2):
        result = run_regauth(["--config", config_dir, "push", f"docker-archive:{path}", ref],
                             env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=300)
        assert result.returncode == 0, result.stderr
        shown.append({line.split(":")[0] for line in result.stdout.splitlines()
                      if ": " in line and not line.startswith("1:")})
    layers = {d.split(":")[1][:12] for d in info["diff_ids"]}
    assert layers <= shown[0], shown
    assert layers <= shown[1], shown


def test_a_digest_reference_must_name_the_compressed_image(run_regauth, token_registry,
                                                            config_dir, tmp_path, archive):
    # With --compression and a @digest reference, the manifest regauth puts is the rewritten
    # one: a digest that names the uncompressed image is refused before the manifest is put.
    path, _ = archive
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    repo = f"{token_registry.hostport}/team/pinned"
    wrong = "sha256:" + "0" * 64
    refused = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}",
                   f"{repo}@{wrong}", "--compression", "gzip")
    assert refused.returncode == 2, refused.stderr
    assert "once compressed, not " + wrong in refused.stderr
    assert refused.stderr.count("regauth: error: ") == 1
    assert "team/pinned" not in token_registry.manifests_on_disk()
    # The digest the compressed image has (as a tag push reports it) is accepted.
    tagged = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}",
                  f"{repo}:1")
    assert tagged.returncode == 0, tagged.stderr
    digest = json.loads(tagged.stdout.splitlines()[-1])["digest"]
    pinned = push(run_regauth, config_dir, tmp_path / "cache", f"docker-archive:{path}",
                  f"{repo}@{digest}", "--compression", "gzip")
    assert pinned.returncode == 0, pinned.stderr
    assert json.loads(pinned.stdout.splitlines()[-1])["digest"] == digest


def test_a_cached_layer_another_registry_lacks_is_compressed_again_beside_an_unknown_one(
        run_regauth, token_registry, htpasswd_registry, config_dir, tmp_path, archive):
    # The cache knows one layer's compressed digest (from a push to another registry) and not
    # the other's: the known one is asked about, found missing, and compressed again as it is
    # sent, to the same bytes; the unknown one is compressed as it is sent. Same image.
    path, _ = archive
    cache = tmp_path / "cache"
    htpasswd_registry.clear_requests()
    for registry in (token_registry, htpasswd_registry):
        assert login(run_regauth, config_dir, registry.hostport, *ALICE).returncode == 0
    first = push(run_regauth, config_dir, cache, f"docker-archive:{path}",
                 f"{token_registry.hostport}/team/mixed:1")
    assert first.returncode == 0, first.stderr
    saved = json.loads((cache / "regauth" / "blob-info.json").read_text())
    forgotten = sorted(saved["compressed"])[0]
    del saved["compressed"][forgotten]
    (cache / "regauth" / "blob-info.json").write_text(json.dumps(saved))
    other = push(run_regauth, config_dir, cache, f"docker-archive:{path}",
                 f"{htpasswd_registry.hostport}/team/mixed:1")
    assert other.returncode == 0, other.stderr
    compressed = events(other, "compressed")
    assert [e["cached"] for e in compressed] == [False, False]  # both were compressed
    known = next(iter(saved["compressed"].values()))["digest"]
    probes = [urllib.parse.unquote(r.query) for r in htpasswd_registry.requests()
              if r.method == "POST" and "mount=" in r.query]
    assert [q for q in probes if known in q] and all(q.count("sha256:") == 1 for q in probes)
    assert sorted(e["digest"] for e in compressed) == \
        sorted(e["digest"] for e in events(first, "compressed"))
    assert json.loads(other.stdout.splitlines()[-1])["digest"] == \
        json.loads(first.stdout.splitlines()[-1])["digest"]
    uploaded = {e["digest"] for e in events(other, "blob_uploaded")}
    # both went up (the registry lacked them); events name a compressed layer by its diff_id
    assert {e["diff_id"] for e in compressed} <= uploaded
