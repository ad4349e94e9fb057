"""push end to end: the gate, the transfer, and skopeo reading back what regauth pushed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.parse

import pytest

from helpers import auth_of, login, read_config, write_config
from support import ALICE, BOB
from support.fault_proxy import FaultProxy
from support.images import make_docker_archive, make_oci_index, make_oci_layout

SKOPEO = "skopeo"


def skopeo(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([SKOPEO, *args], capture_output=True, text=True, timeout=timeout)


def inspect_raw(registry, image: str, creds: str = "alice:alicepw") -> bytes:
    result = subprocess.run(
        [SKOPEO, "inspect", "--raw", "--tls-verify=false", "--creds", creds,
         f"docker://{registry.hostport}/{image}"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def sha256(data: bytes) -> str:
    import hashlib
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push(run_regauth, config_dir, source, reference, *extra, env=None):
    return run_regauth(["--config", config_dir, "push", *extra, source, reference], env=env,
                       timeout=300)


def stored_inline(config_dir, registry, user, password):
    write_config(config_dir, {"auths": {registry.hostport: {"auth": auth_of(user, password)}}})


def writes(registry) -> list:
    return [r for r in registry.requests() if r.method in ("PATCH", "PUT")]


@pytest.mark.requires("skopeo")
def test_push_to_token_registry_and_read_back(run_regauth, token_registry, config_dir, tmp_path):
    image = make_oci_layout(str(tmp_path / "oci"), layer_sizes=[300_000, 70_000, 5_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/app:1.0"
    result = push(run_regauth, config_dir, f"oci:{tmp_path / 'oci'}:latest", ref)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    manifest = inspect_raw(token_registry, "team/app:1.0")
    assert last == f"1.0: digest: {sha256(manifest)} size: {len(manifest)}"
    assert sha256(manifest) == image["manifest"]["digest"]
    # skopeo copies it back, byte for byte the same manifest
    out = tmp_path / "back"
    copied = skopeo("copy", "--src-tls-verify=false", "--src-creds", "alice:alicepw",
                    f"docker://{ref}", f"oci:{out}:back")
    assert copied.returncode == 0, copied.stderr
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image["manifest"]["digest"]


@pytest.mark.requires("skopeo")
def test_push_to_htpasswd_registry_over_tls(run_regauth, tls_htpasswd_registry, test_ca,
                                            config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[10_000])
    port = tls_htpasswd_registry.port
    name = f"registry.test:{port}"
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [name])
    common = ["--resolve", f"registry.test:{port}:127.0.0.1", "--certs-dir", certs]
    assert login(run_regauth, config_dir, name, *ALICE, *common).returncode == 0
    result = run_regauth(["--config", config_dir, *common, "push", str(tmp_path / "oci"),
                          f"{name}/tls/app:v1"], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "tls/app" in tls_htpasswd_registry.manifests_on_disk()


def test_repush_over_tls_is_one_round_of_requests(run_regauth, tls_htpasswd_registry, test_ca,
                                                  config_dir, tmp_path):
    # A re-push over TLS from the machine that pushed: the registry's challenge is remembered
    # from the first push (no ping), and the cache says where the manifest went, so the gate's
    # POST (its mount probe finds the config: 201) and the HEAD of the tag go side by side at
    # once, each on its own connection. Two requests, none per layer.
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[10_000, 12_000, 14_000])
    port = tls_htpasswd_registry.port
    name = f"registry.test:{port}"
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [name])
    common = ["--resolve", f"registry.test:{port}:127.0.0.1", "--certs-dir", certs]
    assert login(run_regauth, config_dir, name, *ALICE, *common).returncode == 0
    argv = ["--config", config_dir, *common, "push", str(tmp_path / "oci"), f"{name}/tls/again:1"]
    assert run_regauth(argv, timeout=120).returncode == 0
    tls_htpasswd_registry.clear_requests()
    result = run_regauth(argv, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Layer already exists") == 4
    served = tls_htpasswd_registry.requests()
    assert sorted((r.method, r.path.split("/")[-2], r.status) for r in served) == [
        ("HEAD", "manifests", 200), ("POST", "uploads", 201)]


def test_push_to_htpasswd_registry_over_http(run_regauth, htpasswd_registry, config_dir,
                                             tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[20_000, 30_000])
    stored_inline(config_dir, htpasswd_registry, *ALICE)
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{htpasswd_registry.hostport}/plain/app")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("latest: digest: sha256:")
    assert htpasswd_registry.manifests_on_disk()["plain/app"]["tags"] == ["latest"]


def assert_nothing_written(registry):
    methods = {(r.method, r.status) for r in registry.requests()}
    assert not any(m in ("PATCH", "PUT") for m, _ in methods), methods
    assert registry.blobs_on_disk() == set()
    assert registry.uploads_on_disk() == []
    assert registry.manifests_on_disk() == {}


def test_pull_only_user_is_denied_before_any_transfer(run_regauth, token_registry, config_dir,
                                                      tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[50_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *BOB).returncode == 0
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{token_registry.hostport}/team/app:1")
    assert result.returncode == 6, result.stderr
    assert "denied: requested access to the resource is denied" in result.stderr
    assert "bob" in result.stderr and os.path.join(config_dir, "config.json") in result.stderr
    assert "bobpw" not in result.stderr
    assert_nothing_written(token_registry)


def test_no_credentials_is_unauthorized_before_any_transfer(run_regauth, token_registry,
                                                            config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[50_000])
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{token_registry.hostport}/team/app:1")
    assert result.returncode == 5, result.stderr
    assert "unauthorized: authentication required" in result.stderr
    assert f"regauth login {token_registry.hostport}" in result.stderr
    assert_nothing_written(token_registry)


def test_wrong_password_is_unauthorized_on_basic_registry(run_regauth, htpasswd_registry,
                                                          config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[50_000])
    stored_inline(config_dir, htpasswd_registry, "alice", "stale-password")
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{htpasswd_registry.hostport}/team/app:1")
    assert result.returncode == 5, result.stderr
    assert "unauthorized" in result.stderr
    assert_nothing_written(htpasswd_registry)


def test_refused_token_sends_nothing_but_the_probe(run_regauth, token_registry, config_dir,
                                                   tmp_path):
    # The manifest lookup that runs alongside the gate waits for the token: none, no lookup.
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[50_000])
    stored_inline(config_dir, token_registry, "alice", "stale-password")
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{token_registry.hostport}/team/app:1")
    assert result.returncode == 5, result.stderr
    assert "unauthorized" in result.stderr
    assert [(r.method, r.path) for r in token_registry.requests()] == [("GET", "/v2/")]


def test_downgrading_token_server_gives_denied(run_regauth, start_token_server, start_registry,
                                               config_dir, tmp_path):
    server = start_token_server(downgrade=True)
    registry = start_registry(auth="token", token_server=server)
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[50_000])
    assert login(run_regauth, config_dir, registry.hostport, *ALICE).returncode == 0
    result = push(run_regauth, config_dir, str(tmp_path / "oci"), f"{registry.hostport}/a/b:1")
    assert result.returncode == 6, result.stderr
    assert "denied" in result.stderr and "alice" in result.stderr
    assert_nothing_written(registry)


def test_repush_sends_nothing_when_the_tag_names_the_manifest(run_regauth, token_registry,
                                                               config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[100_000, 20_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/again:1"
    first = push(run_regauth, config_dir, str(tmp_path / "oci"), ref, "--format", "json")
    assert first.returncode == 0, first.stderr
    digest = [json.loads(line) for line in first.stdout.splitlines()][-1]["digest"]
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, str(tmp_path / "oci"), ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Layer already exists") == 3  # config and two layers
    assert f"1: digest: {digest} size:" in result.stdout
    served = token_registry.requests()
    # the gate's POST (mount of the config from the repository itself: 201, it is there) and,
    # on a second connection meanwhile, a HEAD of the tag, which names this very manifest
    assert sorted((r.method, r.status) for r in served if r.path != "/v2/") == [
        ("HEAD", 200), ("POST", 201)]
    assert [r.path for r in served if r.method == "HEAD"] == ["/v2/team/again/manifests/1"]
    # and no ping (the registry's challenge is remembered from the first push): no blob is
    # asked about but the gate's probe
    assert [(r.method, r.path) for r in served if r.path == "/v2/"] == []
    assert len(blob_requests(served)) == 1
    again = push(run_regauth, config_dir, str(tmp_path / "oci"), ref, "--format", "json")
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert [e["event"] for e in events].count("blob_skipped") == 3
    assert "manifest_present" in [e["event"] for e in events]
    assert "manifest" not in [e["event"] for e in events] and events[-1]["digest"] == digest


def test_repush_without_the_cache_looks_the_tag_up_after_the_gate(run_regauth, token_registry,
                                                                  config_dir, tmp_path):
    # A machine that did not push the image (an empty cache: a fresh CI runner) looks the tag
    # up only once the gate's probe found the config, on the gate's connection: three requests.
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[30_000, 20_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/cold:1"
    assert push(run_regauth, config_dir, str(tmp_path / "oci"), ref).returncode == 0
    token_registry.clear_requests()
    cold = {"XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    result = push(run_regauth, config_dir, str(tmp_path / "oci"), ref, "--format", "json",
                  env=cold)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert "manifest_present" in events and "manifest" not in events
    assert [(r.method, r.path.split("/")[-2], r.status) for r in token_registry.requests()] == [
        ("GET", "v2", 401), ("POST", "uploads", 201), ("HEAD", "manifests", 200)]
    # The push recorded where the manifest is: the next re-push asks beside the gate.
    saved = json.loads((tmp_path / "empty-cache" / "regauth" / "blob-info.json").read_text())
    digest = [json.loads(line) for line in result.stdout.splitlines()][-1]["digest"]
    assert saved["locations"] == [f"{token_registry.hostport}/team/cold@{digest}"]


def cache_file(run_regauth) -> str:
    return os.path.join(run_regauth.home, ".cache", "regauth", "blob-info.json")


def remember(run_regauth, registry, challenge: str) -> None:
    """Writes a cache that says `registry` answered its last ping with `challenge`."""
    os.makedirs(os.path.dirname(cache_file(run_regauth)), exist_ok=True)
    with open(cache_file(run_regauth), "w") as out:
        json.dump({"version": 1, "registries": {registry.hostport: {
            "base": f"http://{registry.hostport}", "challenge": challenge}}}, out)


def test_a_remembered_challenge_saves_the_ping_and_a_stale_one_is_asked_again(
        run_regauth, token_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[20_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    # Out of date: the registry asked for Basic once, it now sends to a token server.
    remember(run_regauth, token_registry, 'Basic realm="old"')
    token_registry.clear_requests()
    ref = f"{token_registry.hostport}/team/stale:1"
    first = push(run_regauth, config_dir, str(tmp_path / "oci"), ref)
    assert first.returncode == 0, first.stderr
    served = [(r.method, r.path.split("/")[-2], r.status) for r in token_registry.requests()]
    # Basic went to the registry itself (the origin that asked for it), was refused, and the
    # push asked again: the ping, then the gate with a token.
    assert served[:3] == [("POST", "uploads", 401), ("GET", "v2", 401), ("POST", "uploads", 202)]
    saved = json.load(open(cache_file(run_regauth)))["registries"][token_registry.hostport]
    assert saved["base"] == f"http://{token_registry.hostport}"
    assert saved["challenge"].startswith("bearer realm=")
    # The next push takes the new challenge: a token, then the gate, no ping.
    token_registry.clear_requests()
    second = push(run_regauth, config_dir, str(tmp_path / "oci"), ref.replace(":1", ":2"))
    assert second.returncode == 0, second.stderr
    assert [r.path for r in token_registry.requests() if r.path == "/v2/"] == []


def test_a_wrong_password_with_a_remembered_challenge_is_refused_before_any_transfer(
        run_regauth, htpasswd_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[20_000])
    stored_inline(config_dir, htpasswd_registry, "alice", "wrong")
    remember(run_regauth, htpasswd_registry, 'Basic realm="Registry Realm"')
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{htpasswd_registry.hostport}/team/app:1")
    assert result.returncode == 5, result.stderr
    assert "unauthorized" in result.stderr
    # The refused gate, the ping that confirms the challenge, the gate again: refused.
    assert [(r.method, r.path.split("/")[-2], r.status) for r in htpasswd_registry.requests()] \
        == [("POST", "uploads", 401), ("GET", "v2", 401), ("POST", "uploads", 401)]
    assert_nothing_written(htpasswd_registry)


def test_the_first_job_works_on_the_gate_s_connection(run_regauth, token_registry, config_dir,
                                                      tmp_path):
    # One new layer and the config: the config's PUT (on the gate's session), and with one
    # job everything else, go on the connection that carried the gate's POST, warm by then.
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[30_000])
    with FaultProxy(token_registry.hostport) as proxy:
        assert login(run_regauth, config_dir, proxy.hostport, *ALICE).returncode == 0
        result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                      f"{proxy.hostport}/team/warm:1", "--jobs", "1")
        assert result.returncode == 0, result.stderr
        pushed = [s for s in proxy.seen if "/team/warm/" in s.path]
    gate = pushed[0]
    assert gate.method == "POST" and gate.status == 202
    assert [(s.method, s.status) for s in pushed] == [
        ("POST", 202), ("PUT", 201), ("POST", 202), ("PUT", 201), ("PUT", 201)]
    assert {s.connection for s in pushed} == {gate.connection}


def test_push_to_a_new_tag_sends_no_blob_bytes(run_regauth, token_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[100_000, 20_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    repo = f"{token_registry.hostport}/team/again"
    assert push(run_regauth, config_dir, str(tmp_path / "oci"), repo + ":1").returncode == 0
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, str(tmp_path / "oci"), repo + ":2")
    assert result.returncode == 0, result.stderr
    assert "Layer already exists" in result.stdout
    served = token_registry.requests()
    assert [r for r in served if r.method == "PATCH"] == []
    puts = [r for r in served if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].path == "/v2/team/again/manifests/2"
    # the tag is unknown (404); the gate's POST found the config (201), and each layer is
    # asked about with a mount from the repository itself: one request per blob it has
    heads = [r for r in served if r.method == "HEAD"]
    assert [(r.path.split("/")[-2], r.status) for r in heads] == [("manifests", 404)]
    assert [r.status for r in served if r.method == "POST"] == [201, 201, 201]


def test_push_over_a_tag_naming_another_manifest_puts_the_manifest(run_regauth, token_registry,
                                                                   config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "old"), layer_sizes=[10_000])
    make_oci_layout(str(tmp_path / "new"), layer_sizes=[12_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/moving:latest"
    old = push(run_regauth, config_dir, str(tmp_path / "old"), ref, "--format", "json")
    assert old.returncode == 0, old.stderr
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, str(tmp_path / "new"), ref, "--format", "json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert "manifest_present" not in [e["event"] for e in events]
    assert events[-1]["digest"] != json.loads(old.stdout.splitlines()[-1])["digest"]
    puts = [(r.path, r.status) for r in token_registry.requests() if r.method == "PUT"]
    assert ("/v2/team/moving/manifests/latest", 201) in puts
    revisions = token_registry.manifests_on_disk()["team/moving"]["revisions"]
    assert events[-1]["digest"] in revisions


@pytest.mark.requires("skopeo")
def test_docker_archive_push_keeps_the_image_config(run_regauth, token_registry, config_dir,
                                                    tmp_path):
    archive = str(tmp_path / "image.tar")
    make_docker_archive(archive, layer_sizes=[40_000, 8_000], tag="app:1")
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ref = f"{token_registry.hostport}/team/archived:1"
    result = push(run_regauth, config_dir, f"docker-archive:{archive}", ref)
    assert result.returncode == 0, result.stderr
    source = skopeo("inspect", "--config", f"docker-archive:{archive}")
    pushed = skopeo("inspect", "--config", "--tls-verify=false", "--creds", "alice:alicepw",
                    f"docker://{ref}")
    assert source.returncode == 0 and pushed.returncode == 0, pushed.stderr
    assert json.loads(source.stdout)["rootfs"]["diff_ids"] == \
        json.loads(pushed.stdout)["rootfs"]["diff_ids"]


def test_multi_platform_index_pushes_whole(run_regauth, token_registry, config_dir, tmp_path):
    info = make_oci_index(str(tmp_path / "multi"), platforms=["linux/amd64", "linux/arm64"])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    result = push(run_regauth, config_dir, f"oci:{tmp_path / 'multi'}",
                  f"{token_registry.hostport}/team/multi:1")
    assert result.returncode == 0, result.stderr
    index = json.loads(inspect_raw(token_registry, "team/multi:1"))
    assert len(index["manifests"]) == 2
    for child in index["manifests"]:
        raw = inspect_raw(token_registry, f"team/multi@{child['digest']}")
        assert sha256(raw) == child["digest"]


def test_check_reports_push_rights(run_regauth, token_registry, config_dir, tmp_path):
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    ok = push(run_regauth, config_dir, "unused", f"{token_registry.hostport}/team/app:1",
              "--check")
    assert ok.returncode == 0, ok.stderr
    assert "Push allowed" in ok.stdout and "alice" in ok.stdout
    bob_dir = str(tmp_path / "bob")
    os.mkdir(bob_dir)
    assert login(run_regauth, bob_dir, token_registry.hostport, *BOB).returncode == 0
    denied = push(run_regauth, bob_dir, "unused", f"{token_registry.hostport}/team/app:1",
                  "--check")
    assert denied.returncode == 6


def test_json_events(run_regauth, token_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{token_registry.hostport}/j/app:1", "--format", "json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert events[0] == "gate" and events[-1] == "done"
    assert events.count("blob_uploaded") == 2 and "manifest" in events


def test_failing_credential_helper_sends_nothing(run_regauth, htpasswd_registry, config_dir,
                                                 tmp_path):
    """An ECR-style host whose credHelpers entry is Debian's amazon-ecr-credential-helper, with no
    AWS credentials: the helper's failure is reported plainly and the registry sees nothing."""
    if not os.path.exists("/usr/bin/docker-credential-ecr-login"):
        pytest.fail("amazon-ecr-credential-helper is not installed")
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    port = htpasswd_registry.port
    host = f"123456789012.dkr.ecr.us-east-1.amazonaws.com:{port}"
    write_config(config_dir, {"credHelpers": {host: "ecr-login"}})
    env = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true"}
    result = run_regauth(["--config", config_dir, "--resolve", f"{host}:127.0.0.1",
                          "--insecure-registry", host, "--helper-timeout", "20", "push",
                          str(tmp_path / "oci"), f"{host}/app:1"], env=env, timeout=60)
    assert result.returncode == 4, result.stderr
    assert "docker-credential-ecr-login" in result.stderr
    assert htpasswd_registry.requests() == []


def test_docker_auth_config_credentials_are_used(run_regauth, htpasswd_registry, config_dir,
                                                 tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    env = {"DOCKER_AUTH_CONFIG": json.dumps(
        {"auths": {htpasswd_registry.hostport: {"auth": auth_of(*ALICE)}}})}
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{htpasswd_registry.hostport}/env/app:1", env=env)
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


def test_mount_from_another_repository(run_regauth, token_registry, token_server, config_dir,
                                       tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[60_000, 6_000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    first = push(run_regauth, config_dir, str(tmp_path / "oci"),
                 f"{token_registry.hostport}/team/base:1")
    assert first.returncode == 0, first.stderr
    token_registry.clear_requests()
    token_server.clear_requests()
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{token_registry.hostport}/team/derived:1", "--mount-from", "team/base",
                  "--format", "json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events].count("blob_mounted") == 3
    assert not any(r.method == "PATCH" for r in token_registry.requests())
    request = token_server.token_requests()[0]
    # the stored identity token makes it a refresh-token POST: one space-separated scope field
    scopes = request.form.get("scope", [""])[0].split(" ") + request.query.get("scope", [])
    assert "repository:team/base:pull" in scopes
    assert "repository:team/derived:pull,push" in scopes


def test_quiet_prints_only_the_final_line(run_regauth, htpasswd_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    stored_inline(config_dir, htpasswd_registry, *ALICE)
    result = push(run_regauth, config_dir, str(tmp_path / "oci"),
                  f"{htpasswd_registry.hostport}/q/app:2", "--quiet")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith("2: digest: sha256:")


@pytest.mark.parametrize("reference,fragment", [
    ("127.0.0.1:5000/Upper/app:1", "lowercase"),
    ("127.0.0.1:5000/app:bad tag", "invalid"),
    ("127.0.0.1:5000/app@sha256:1234", "digest"),
])
def test_bad_references_fail_before_anything_is_sent(run_regauth, config_dir, tmp_path,
                                                     reference, fragment):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    result = push(run_regauth, config_dir, str(tmp_path / "oci"), reference)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr


def test_terminal_shows_live_lines_per_layer(regauth, htpasswd_registry, config_dir, tmp_path):
    import pty
    import select
    import time

    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[2_000_000, 500])
    stored_inline(config_dir, htpasswd_registry, *ALICE)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(regauth, [regauth, "--config", config_dir, "push", str(tmp_path / "oci"),
                               f"{htpasswd_registry.hostport}/tty/app:1"])
        finally:
            os._exit(127)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
    finally:
        os.close(fd)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:  # still running after the deadline: no unbounded wait
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text
    assert "\x1b[" in text  # lines redrawn in place
    assert text.count("Pushed") >= 3
    assert "1: digest: sha256:" in text


def test_push_to_token_registry_over_tls(run_regauth, start_token_server, start_registry,
                                         test_ca, config_dir, tmp_path):
    """Registry and token server both on TLS, reached by names through --resolve."""
    tls = test_ca.issue(["registry.test", "auth.registry.test"], str(tmp_path / "tls"))
    server = start_token_server(tls=tls)
    server.public_realm = f"https://auth.registry.test:{server.port}/token"
    registry = start_registry(auth="token", token_server=server, tls=tls)
    name = f"registry.test:{registry.port}"
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"),
                              [name, f"auth.registry.test:{server.port}"])
    flags = ["--resolve", f"registry.test:{registry.port}:127.0.0.1",
             "--resolve", f"auth.registry.test:{server.port}:127.0.0.1", "--certs-dir", certs]
    image = make_oci_layout(str(tmp_path / "oci"), layer_sizes=[30_000])
    assert login(run_regauth, config_dir, name, *ALICE, *flags).returncode == 0
    result = run_regauth(["--config", config_dir, *flags, "push", str(tmp_path / "oci"),
                          f"{name}/secure/app:1"], timeout=120)
    assert result.returncode == 0, result.stderr
    # skopeo cannot use --resolve; the registry's storage is the witness instead
    assert image["manifest"]["digest"] in {f"sha256:{d.split(':')[1]}" for d in
                                           registry.blobs_on_disk()}
    assert registry.manifests_on_disk()["secure/app"]["tags"] == ["1"]


def blob_requests(served) -> list:
    """The requests that concern blobs: HEADs of blobs, upload POSTs, PATCHes and blob PUTs."""
    return [r for r in served if "/blobs/" in r.path]


def test_a_new_blob_costs_two_requests_and_a_present_one_one(run_regauth, token_registry,
                                                            config_dir, tmp_path):
    sizes = [3_000 + i for i in range(6)]
    old = make_oci_layout(str(tmp_path / "old"), layer_sizes=sizes[:3], seed=7)
    make_oci_layout(str(tmp_path / "new"), layer_sizes=sizes, seed=7)
    new = json.load(open(tmp_path / "new" / "index.json"))["manifests"][0]
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    repo = f"{token_registry.hostport}/team/counted"
    token_registry.clear_requests()
    fresh = push(run_regauth, config_dir, str(tmp_path / "old"), repo + ":old")
    assert fresh.returncode == 0, fresh.stderr
    blobs = 1 + len(old["layers"])  # config and layers
    served = token_registry.requests()
    assert len(blob_requests(served)) == 2 * blobs
    # Beside them only the manifest PUT: a new image costs no tag lookup (the gate's probe
    # found no config), and no ping (the login just answered the registry's challenge, which
    # the cache remembers), 2 + 1 / blobs requests per blob.
    assert [(r.method, r.path.split("/")[-2]) for r in served
            if "/blobs/" not in r.path] == [("PUT", "manifests")]

    # The second image shares its first three layers' contents with the first (same seed),
    # not its config: three blobs present, four new.
    token_registry.clear_requests()
    half = push(run_regauth, config_dir, str(tmp_path / "new"), repo + ":new")
    assert half.returncode == 0, half.stderr
    served = blob_requests(token_registry.requests())
    present = [r for r in served if r.method == "POST" and r.status == 201]
    uploads = [r for r in served if r.method == "PUT"]
    assert len(present) == 3 and len(uploads) == 4
    assert len(served) == 3 + 2 * 4
    assert not [r for r in served if r.method == "HEAD"]
    # and the manifest PUT: no ping
    assert len(token_registry.requests()) == len(served) + 1
    assert inspect_raw(token_registry, f"team/counted@{new['digest']}")


def blob_digest(served) -> str | None:
    """The blob that a request completed: a blob PUT's ?digest=, a 201 mount's ?mount=, or the
    digest of a blob HEAD's path; None for anything else."""
    query = dict(part.partition("=")[::2] for part in served.query.split("&") if part)
    if served.method == "PUT" and "/blobs/uploads/" in served.path:
        return urllib.parse.unquote(query.get("digest", "")) or None
    if served.method == "POST" and served.status == 201:
        return urllib.parse.unquote(query.get("mount", "")) or None
    if served.method == "HEAD" and "/blobs/" in served.path and served.status == 200:
        return served.path.rsplit("/", 1)[-1]
    return None


def manifest_put_order(served) -> list:
    """(index in `served`, reference) of each manifest PUT the registry accepted."""
    return [(i, r.path.rsplit("/", 1)[-1]) for i, r in enumerate(served)
            if r.method == "PUT" and "/manifests/" in r.path and r.status == 201]


def image_blobs(image: dict) -> set:
    return {image["config"]["digest"], *(layer["digest"] for layer in image["layers"])}


def test_index_children_go_as_soon_as_their_blobs_are_in(run_regauth, token_registry, config_dir,
                                                         tmp_path):
    # One job: child A's blobs, then A's manifest at once (before any blob of B), then B's
    # blobs and B's manifest, then the index; two requests per new blob.
    info = make_oci_index(str(tmp_path / "multi"), platforms=["linux/amd64", "linux/arm64"],
                          layer_sizes=[2_000, 3_000], seed=11)
    images = [info["images"]["linux/amd64"], info["images"]["linux/arm64"]]
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, f"oci:{tmp_path / 'multi'}",
                  f"{token_registry.hostport}/team/ordered:1", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    served = token_registry.requests()
    order = [blob_digest(r) or ("manifest", r.path.rsplit("/", 1)[-1]) for r in served
             if blob_digest(r) or (r.method == "PUT" and "/manifests/" in r.path)]
    a, b = images
    assert set(order[:3]) == image_blobs(a)
    assert order[3] == ("manifest", a["manifest"]["digest"])
    assert set(order[4:7]) == image_blobs(b)
    assert order[7:] == [("manifest", b["manifest"]["digest"]), ("manifest", "1")]
    assert len(blob_requests(served)) == 2 * 6


def test_index_children_in_parallel_each_manifest_after_its_own_blobs(run_regauth, token_registry,
                                                                      config_dir, tmp_path):
    # Default jobs: both children's blobs go at once; in the registry's log (in the order the
    # requests completed) each child's manifest comes after every blob it references, and the
    # index after both children.
    info = make_oci_index(str(tmp_path / "multi"), platforms=["linux/amd64", "linux/arm64"],
                          layer_sizes=[2_000, 3_000, 4_000], seed=12)
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    token_registry.clear_requests()
    result = push(run_regauth, config_dir, f"oci:{tmp_path / 'multi'}",
                  f"{token_registry.hostport}/team/parallel:1")
    assert result.returncode == 0, result.stderr
    served = token_registry.requests()
    puts = dict((reference, i) for i, reference in manifest_put_order(served))
    done_at = {blob_digest(r): i for i, r in enumerate(served) if blob_digest(r)}
    for image in info["images"].values():
        child = puts[image["manifest"]["digest"]]
        assert all(done_at[digest] < child for digest in image_blobs(image))
        assert child < puts["1"]
    assert len(puts) == 3
    assert len(blob_requests(served)) == 2 * 8  # two configs, six layers
