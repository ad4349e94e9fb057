"""The fixtures work against the real tools (curl, skopeo, docker-registry,
docker-credential-pass), independently of regauth."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess

import pytest

from support import ALICE, BOB
from support.images import make_docker_archive, make_oci_index, make_oci_layout

pytestmark = [pytest.mark.requires("curl", "docker-registry"), pytest.mark.build_independent]


def curl(*args: str) -> tuple[int, dict[str, str], str]:
    """curl ARGS -> (status, headers with lower-case names, body)."""
    p = subprocess.run(
        ["curl", "-sS", "-i", "--max-time", "10", *args],
        capture_output=True, timeout=20,  # bytes: text mode would eat the \r
    )
    assert p.returncode == 0, f"curl {args} failed: {p.stderr!r}"
    out = p.stdout.decode()
    # Skip interim responses (e.g. "100 Continue" for chunked uploads).
    while True:
        head, _, out = out.partition("\r\n\r\n")
        status = int(head.split()[1])
        if status >= 200:
            break
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, out


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="..",service=".."` -> ('Bearer', {realm, service, ...})."""
    scheme, _, rest = value.partition(" ")
    return scheme, dict(re.findall(r'(\w+)="([^"]*)"', rest))


def get_token(token_server, scope: str, user=None) -> dict:
    args = ["-G", token_server.realm, "--data-urlencode", f"service={token_server.service}",
            "--data-urlencode", f"scope={scope}"]
    if user:
        args += ["-u", ":".join(user)]
    status, _, body = curl(*args)
    assert status == 200, body
    return json.loads(body)


def granted(token_server, answer: dict) -> dict[str, list[str]]:
    claims = token_server.decode(answer["token"])
    return {a["name"]: a["actions"] for a in claims["access"]}


# ---- htpasswd --------------------------------------------------------------


def test_htpasswd_registry_basic_auth(htpasswd_registry):
    reg = htpasswd_registry
    status, headers, _ = curl(reg.url + "/v2/")
    assert status == 401
    assert parse_challenge(headers["www-authenticate"]) == ("Basic", {"realm": "regauth-test"})
    assert curl("-u", "alice:wrong", reg.url + "/v2/")[0] == 401
    assert curl("-u", ":".join(ALICE), reg.url + "/v2/")[0] == 200
    assert curl("-u", ":".join(BOB), reg.url + "/v2/")[0] == 200
    assert [(r.method, r.path, r.status) for r in reg.requests()] == [
        ("GET", "/v2/", 401), ("GET", "/v2/", 401), ("GET", "/v2/", 200), ("GET", "/v2/", 200),
    ]
    reg.clear_requests()
    assert reg.requests() == []


def test_tls_registry_trusts_test_ca_only(tls_htpasswd_registry, test_ca, tmp_path):
    reg = tls_htpasswd_registry
    assert reg.url.startswith("https://127.0.0.1:")
    user = ["-u", ":".join(ALICE)]
    # Untrusted without the CA, trusted with it, under each certificate name.
    p = subprocess.run(["curl", "-sS", reg.url + "/v2/"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 60, p.stderr  # CURLE_PEER_FAILED_VERIFICATION
    assert curl("--cacert", test_ca.ca_path, *user, reg.url + "/v2/")[0] == 200
    for name in ("localhost", "registry.test"):
        url = f"https://{name}:{reg.port}/v2/"
        resolve = ["--resolve", f"{name}:{reg.port}:127.0.0.1"]
        assert curl("--cacert", test_ca.ca_path, *resolve, *user, url)[0] == 200
    # The Docker certs.d layout.
    root = test_ca.certs_dir(str(tmp_path / "certs.d"), [reg.hostport, "registry.test"])
    ca_file = os.path.join(root, reg.hostport, "ca.crt")
    assert open(ca_file).read() == open(test_ca.ca_path).read()
    assert os.path.isfile(os.path.join(root, "registry.test", "ca.crt"))


# ---- token server ------------------------------------------------------------


def test_token_flow(token_registry, token_server):
    reg, ts = token_registry, token_server
    status, headers, _ = curl(reg.url + "/v2/")
    assert status == 401
    scheme, params = parse_challenge(headers["www-authenticate"])
    assert scheme == "Bearer"
    assert params == {"realm": ts.realm, "service": ts.service}

    answer = get_token(ts, "repository:alice/app:pull,push", ALICE)
    assert answer["token"] == answer["access_token"]
    assert answer["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["issued_at"])
    assert "refresh_token" not in answer
    claims = ts.decode(answer["token"])
    assert claims["sub"] == "alice" and claims["aud"] == ts.service and claims["iss"] == ts.issuer
    assert claims["access"] == [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push"]}]

    bearer = ["-H", "Authorization: Bearer " + answer["token"]]
    assert curl(*bearer, reg.url + "/v2/")[0] == 200
    # One token request, with alice's Basic credentials and the query we sent.
    (req,) = ts.requests
    assert req.method == "GET" and req.basic_user() == "alice" and req.status == 200
    assert req.query["scope"] == ["repository:alice/app:pull,push"]


def test_token_grants_are_intersections(token_registry, token_server):
    ts = token_server
    # bob asks for push: gets pull only, and the registry refuses the upload.
    answer = get_token(ts, "repository:bob/app:pull,push", BOB)
    assert granted(ts, answer) == {"bob/app": ["pull"]}
    status, headers, _ = curl("-X", "POST", "-H", "Authorization: Bearer " + answer["token"],
                              token_registry.url + "/v2/bob/app/blobs/uploads/")
    assert status == 401
    assert parse_challenge(headers["www-authenticate"])[1]["error"] == "insufficient_scope"
    assert token_registry.uploads_on_disk() == []
    # Anonymous: pull on public/* only; several scopes in one parameter.
    answer = get_token(ts, "repository:public/x:pull,push repository:private/x:pull")
    assert granted(ts, answer) == {"public/x": ["pull"]}
    assert "authorization" not in ts.requests[-1].headers
    # A wrong password is a 401 with a JSON error.
    status, _, body = curl("-u", "alice:nope", ts.realm + "?service=registry.test")
    assert status == 401 and json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"


def test_token_post_and_refresh(start_token_server):
    ts = start_token_server(realm_path="/jwt/auth")
    assert ts.realm.endswith("/jwt/auth")
    # password grant with access_type=offline returns a refresh token.
    status, _, body = curl("-d", "grant_type=password", "-d", "username=alice", "-d",
                           "password=alicepw", "-d", "client_id=selfcheck", "-d",
                           "access_type=offline", "-d", "service=registry.test",
                           "-d", "scope=repository:a:pull repository:b:push", ts.realm)
    assert status == 200, body
    answer = json.loads(body)
    assert granted(ts, answer) == {"a": ["pull"], "b": ["push"]}
    refresh = answer["refresh_token"]
    # refresh_token grant, sent chunked as skopeo does.
    form = (f"grant_type=refresh_token&refresh_token={refresh}"
            "&client_id=selfcheck&scope=repository:c:pull")
    status, _, body = curl("-H", "Transfer-Encoding: chunked", "-H",
                           "Content-Type: application/x-www-form-urlencoded",
                           "--data-binary", form, ts.realm)
    assert status == 200, body
    assert granted(ts, json.loads(body)) == {"c": ["pull"]}
    assert "transfer-encoding" in ts.requests[-1].headers
    assert ts.requests[-1].form["grant_type"] == ["refresh_token"]
    # GET with offline_token=true also hands out a refresh token.
    status, _, body = curl("-u", "bob:bobpw",
                           ts.realm + "?service=registry.test&offline_token=true")
    assert status == 200 and json.loads(body)["refresh_token"].startswith("rt-")
    # Unknown refresh tokens are refused.
    status, _, _ = curl("-d", "grant_type=refresh_token", "-d", "refresh_token=bogus",
                        "-d", "client_id=selfcheck", ts.realm)
    assert status == 401


def test_token_server_modes(start_token_server, test_ca, tmp_path):
    no_post = start_token_server(post_supported=False)
    assert curl("-d", "grant_type=password", no_post.realm)[0] == 404
    downgrade = start_token_server(downgrade=True, expires_in=60)
    answer = get_token(downgrade, "repository:x:pull,push,delete", ALICE)
    assert granted(downgrade, answer) == {"x": ["pull"]} and answer["expires_in"] == 60
    tls = start_token_server(tls=test_ca.issue(["localhost"], str(tmp_path / "tls")))
    assert tls.realm.startswith("https://")
    assert curl("--cacert", test_ca.ca_path, "-u", "bob:bobpw", tls.realm)[0] == 200


# ---- pushing with skopeo -------------------------------------------------------


def skopeo_copy(layout: str, dest: str, user, tmp_path, *flags: str,
                tag: str = "v1") -> subprocess.CompletedProcess:
    """skopeo copy oci:LAYOUT:TAG docker://DEST (plain HTTP, USER's creds if any)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json")}
    creds = ["--dest-creds", ":".join(user)] if user else []
    return subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", *creds, *flags,
         f"oci:{layout}:{tag}", f"docker://{dest}"],
        env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.requires("skopeo")
def test_skopeo_push_alice_ok_bob_refused(token_registry, token_server, tmp_path):
    reg = token_registry
    layout = str(tmp_path / "layout")
    image = make_oci_layout(layout, layer_sizes=[2000, 300], tag="v1")

    p = skopeo_copy(layout, f"{reg.hostport}/bob/app:v1", BOB, tmp_path)
    assert p.returncode != 0
    served = reg.requests()
    assert not [s for s in served if s.method in ("PUT", "PATCH") and s.status < 300], served
    assert reg.blobs_on_disk() == set() and reg.manifests_on_disk() == {}
    # skopeo asked for push as bob and was handed pull only.
    asked = [r for r in token_server.token_requests() if r.basic_user() == "bob"]
    assert any("push" in s for r in asked for s in r.query.get("scope", []))
    assert all("push" not in a["actions"] for r in asked for a in r.access)

    reg.clear_requests()
    p = skopeo_copy(layout, f"{reg.hostport}/alice/app:v1", ALICE, tmp_path)
    assert p.returncode == 0, p.stderr
    methods = {s.method for s in reg.requests() if s.status < 300}
    assert {"POST", "PUT"} <= methods
    pushed = {d["digest"] for d in [*image["layers"], image["config"], image["manifest"]]}
    assert reg.blobs_on_disk() == pushed
    assert reg.manifests_on_disk() == {
        "alice/app": {"revisions": [image["manifest"]["digest"]], "tags": ["v1"]}}
    assert reg.uploads_on_disk() == []


@pytest.mark.requires("skopeo")
def test_images_read_by_skopeo(start_registry, tmp_path):
    reg = start_registry()  # auth: none
    info = make_oci_index(str(tmp_path / "multi"), ["linux/amd64", "linux/arm64"])
    p = skopeo_copy(str(tmp_path / "multi"), f"{reg.hostport}/multi:latest", None, tmp_path,
                    "--all", tag="latest")
    assert p.returncode == 0, p.stderr
    assert reg.manifests_on_disk()["multi"]["revisions"] == sorted(
        [info["index"]["digest"], *(i["manifest"]["digest"] for i in info["images"].values())])
    archive = str(tmp_path / "image.tar")
    made = make_docker_archive(archive, layer_sizes=[500, 600], tag="app:1")
    p = subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{archive}"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["rootfs"]["diff_ids"] == made["diff_ids"]


# ---- docker-credential-pass ------------------------------------------------------


@pytest.mark.requires("docker-credential-pass")
def test_pass_store_round_trip(pass_env, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **pass_env}

    def helper(verb: str, stdin: str) -> subprocess.CompletedProcess:
        return subprocess.run(["docker-credential-pass", verb], input=stdin, env=env,
                              capture_output=True, text=True, timeout=30)

    creds = {"ServerURL": "https://registry.test", "Username": "alice", "Secret": "s3cret"}
    assert helper("store", json.dumps(creds)).returncode == 0
    got = helper("get", "https://registry.test")
    assert got.returncode == 0 and json.loads(got.stdout) == creds
    assert json.loads(helper("list", "").stdout) == {"https://registry.test": "alice"}
    # Stored base64-encoded under docker-credential-helpers/ as USER.gpg.
    key = base64.b64encode(b"https://registry.test").decode()
    assert os.path.isfile(os.path.join(pass_env["PASSWORD_STORE_DIR"],
                                       "docker-credential-helpers", key, "alice.gpg"))
    assert helper("erase", "https://registry.test").returncode == 0
    assert json.loads(helper("list", "").stdout) == {}
