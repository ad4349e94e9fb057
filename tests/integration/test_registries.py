"""The registries users log in to, shaped on loopback: Docker Hub, GitLab, ECR and Google
Artifact Registry conventions, with real names through --resolve and the test CA."""

from __future__ import annotations

import base64
import json
import os
import socket

import pytest

from helpers import login, read_config
from support import ALICE
from support.token_server import TokenServer

GAR_KEY = json.dumps({
    "type": "service_account", "project_id": "demo",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBg\nkqhkiG9w0BAQEFAASC\n"
                   "-----END PRIVATE KEY-----\n",
    "client_email": "pusher@demo.iam.gserviceaccount.com"}, indent=2)


def test_gitlab_style_registry_with_ci_variables(run_regauth, start_token_server, start_registry,
                                                 config_dir):
    server = start_token_server(realm_path="/jwt/auth", service="container_registry",
                                users={"gitlab-ci-token": ("glcbt-64_secret", {"*": {"pull", "push"}})})
    registry = start_registry(auth="token", token_server=server)
    env = {"CI_REGISTRY": registry.hostport, "CI_REGISTRY_USER": "gitlab-ci-token",
           "CI_REGISTRY_PASSWORD": "glcbt-64_secret"}
    # what a .gitlab-ci.yml runs: echo "$CI_REGISTRY_PASSWORD" | login -u "$CI_REGISTRY_USER" ...
    result = run_regauth(["--config", config_dir, "login", "-u", env["CI_REGISTRY_USER"],
                          "--password-stdin", env["CI_REGISTRY"]],
                         input=env["CI_REGISTRY_PASSWORD"] + "\n", env=env)
    assert result.returncode == 0, result.stderr
    request = server.token_requests()[0]
    assert request.path == "/jwt/auth"
    assert request.query["service"] == ["container_registry"]
    assert request.query["account"] == ["gitlab-ci-token"]


def test_ecr_style_basic_registry_with_user_aws(run_regauth, start_registry, config_dir):
    token = base64.b64encode(os.urandom(900)).decode()[:1100]  # ECR passwords are long
    # htpasswd (bcrypt) only looks at 72 bytes, so the registry here checks a shorter one
    registry = start_registry(auth="htpasswd", users={"AWS": token[:72]})
    result = run_regauth(["--config", config_dir, "login", "-u", "AWS", "--password-stdin",
                          registry.hostport], input=token[:72])
    assert result.returncode == 0, result.stderr
    entry = read_config(config_dir)["auths"][registry.hostport]
    assert base64.b64decode(entry["auth"]).decode() == f"AWS:{token[:72]}"


@pytest.mark.parametrize("user,password", [
    ("oauth2accesstoken", "ya29.a0AfH6SMBx-token"),
    ("_json_key", GAR_KEY),
])
def test_google_artifact_registry_style(run_regauth, start_token_server, start_registry,
                                        config_dir, user, password):
    server = start_token_server(users={user: (password, {"*": {"pull", "push"}})})
    registry = start_registry(auth="token", token_server=server)
    result = run_regauth(["--config", config_dir, "login", "-u", user, "--password-stdin",
                          registry.hostport], input=password + "\n")
    assert result.returncode == 0, result.stderr
    assert server.token_requests()[0].basic_user() == user
    entry = read_config(config_dir)["auths"][registry.hostport]
    assert entry.get("identitytoken")  # the token server's refresh token, stored instead
    stored = base64.b64decode(entry["auth"]).decode() if "auth" in entry else ""
    assert password not in stored and password not in json.dumps(entry)


def port_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, port))
            return True
        except OSError:
            return False


def test_docker_hub_shaped(run_regauth, start_registry, test_ca, config_dir, tmp_path):
    """registry-1.docker.io with its realm on auth.docker.io and service registry.docker.io,
    both on port 443 of two loopback addresses; credentials filed under the legacy key."""
    # two random loopback addresses, so that parallel runs of the suite do not collide on 443
    import random
    hub, auth = (f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
                 for _ in range(2))
    if not (port_free(hub, 443) and port_free(auth, 443)):
        pytest.fail(f"port 443 on {hub}/{auth} is taken: the Docker Hub shape cannot run")
    registry_tls = test_ca.issue(["registry-1.docker.io"], str(tmp_path / "hub-tls"))
    auth_tls = test_ca.issue(["auth.docker.io"], str(tmp_path / "auth-tls"))
    server = TokenServer(users={"alice": ("alicepw", {"*": {"pull", "push"}})},
                         service="registry.docker.io", tls=auth_tls,
                         address=(auth, 443), public_realm="https://auth.docker.io/token",
                         state_dir=str(tmp_path / "hub-token")).start()
    try:
        registry = start_registry(auth="token", token_server=server, tls=registry_tls, port=443,
                                  address=hub)
        certs = test_ca.certs_dir(str(tmp_path / "certs.d"),
                                  ["registry-1.docker.io", "auth.docker.io"])
        flags = ["--resolve", f"registry-1.docker.io:443:{hub}",
                 "--resolve", f"auth.docker.io:443:{auth}", "--certs-dir", certs]
        for spelling in ("", "docker.io", "index.docker.io", "https://index.docker.io/v1/"):
            result = run_regauth(["--config", config_dir, *flags, "login", "-u", "alice",
                                  "--password-stdin", *([spelling] if spelling else [])],
                                 input="alicepw\n")
            assert result.returncode == 0, (spelling, result.stderr)
            assert list(read_config(config_dir)["auths"]) == ["https://index.docker.io/v1/"]
        request = server.token_requests()[-1]
        assert request.query["service"] == ["registry.docker.io"]
        assert request.headers["host"].startswith("auth.docker.io")
        result = run_regauth(["--config", config_dir, *flags, "logout"])
        assert result.returncode == 0
        assert read_config(config_dir)["auths"] == {}
        served = registry.requests()
        assert served and all(r.path.startswith("/v2/") for r in served)
    finally:
        server.stop()
