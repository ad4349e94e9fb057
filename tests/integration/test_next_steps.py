"""Errors that say the next step, login's JSON error object, HttpHeaders, and the one-shot
flags of login and push (--identity-token-stdin, --creds, --digestfile)."""

from __future__ import annotations

import json
import os

from helpers import login, read_config, write_config
from support import ALICE, BOB
from support.fixture_server import FixtureServer, Reply
from support.images import make_oci_layout


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("regauth: error:", "hint:"))]


def test_wrong_password_says_what_to_do(run_regauth, htpasswd_registry, config_dir):
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, "alice", "wrong")
    assert result.returncode == 5
    lines = error_lines(result.stderr)
    assert lines[0].startswith("regauth: error: logging in to")
    assert lines[1] == (f"hint: check the username and password, then run 'regauth login "
                        f"{htpasswd_registry.hostport} -u USERNAME --password-stdin'")


def test_login_json_failure_is_an_object(run_regauth, htpasswd_registry, config_dir):
    result = run_regauth(
        ["--config", config_dir, "login", "--format", "json", "-u", "alice", "--password-stdin",
         htpasswd_registry.hostport], input="wrong\n")
    assert result.returncode == 5
    answer = json.loads(result.stdout)
    assert answer["registry"] == htpasswd_registry.hostport
    assert answer["error"]["kind"] == "unauthorized"
    assert answer["error"]["exit_code"] == 5
    assert "check the username and password" in answer["error"]["hint"]
    assert "wrong" not in result.stdout
    usage = run_regauth(["--config", config_dir, "login", "--format", "json", "--password-stdin",
                         htpasswd_registry.hostport], input="x\n")
    assert usage.returncode == 2
    assert json.loads(usage.stdout)["error"]["kind"] == "usage"


def test_untrusted_certificate_says_where_ca_crt_goes(run_regauth, tls_htpasswd_registry,
                                                      config_dir):
    name = f"registry.test:{tls_htpasswd_registry.port}"
    result = login(run_regauth, config_dir, name, *ALICE, "--resolve",
                   f"{name}:127.0.0.1")
    assert result.returncode == 7, result.stderr
    lines = error_lines(result.stderr)
    assert "certificate" in lines[0]
    assert lines[1] == (f"hint: if {name} uses a private CA, put its certificate in "
                        f"/etc/docker/certs.d/{name}/ca.crt, or in DIR/{name}/ca.crt and pass "
                        f"--certs-dir DIR")


def test_denied_push_names_the_rights_needed(run_regauth, token_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    assert login(run_regauth, config_dir, token_registry.hostport, *BOB).returncode == 0
    result = run_regauth(["--config", config_dir, "push", str(tmp_path / "oci"),
                          f"{token_registry.hostport}/team/app:1"], timeout=120)
    assert result.returncode == 6
    assert error_lines(result.stderr)[1] == (
        f"hint: log in as a user with push rights to {token_registry.hostport}/team/app: "
        f"regauth login {token_registry.hostport}")


def test_missing_helper_says_install_or_remove(run_regauth, htpasswd_registry, config_dir):
    write_config(config_dir, {"credsStore": "nosuch"})
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 4
    lines = error_lines(result.stderr)
    assert "docker-credential-nosuch" in lines[0] and "not found on PATH" in lines[0]
    assert lines[1] == ('hint: install docker-credential-nosuch, or remove "nosuch" from '
                        'credsStore/credHelpers in the config')


def test_http_headers_go_to_the_registry_only(run_regauth, token_server, config_dir):
    """A registry (fixture) whose token realm is the real token server on another origin."""
    def route(request):
        if request.headers.get("authorization", "").startswith("Bearer "):
            return Reply(200, [("Content-Type", "application/json")], b"{}")
        challenge = f'Bearer realm="{token_server.realm}",service="registry.test"'
        return Reply(401, [("WWW-Authenticate", challenge)], b"{}")

    registry = FixtureServer(route).start()
    try:
        write_config(config_dir, {"HttpHeaders": {"X-Meta-Source": "ci-42",
                                                  "User-Agent": "not-this"}})
        result = login(run_regauth, config_dir, registry.hostport, *ALICE)
        assert result.returncode == 0, result.stderr
        seen = registry.requests
    finally:
        registry.stop()
    assert len(seen) >= 2
    assert all(r.headers.get("x-meta-source") == "ci-42" for r in seen)
    assert all(r.headers.get("user-agent", "").startswith("regauth") for r in seen)
    assert token_server.token_requests()
    assert all("x-meta-source" not in r.headers for r in token_server.requests)
    # The header survives the login's rewrite of config.json.
    assert read_config(config_dir)["HttpHeaders"]["X-Meta-Source"] == "ci-42"


def test_http_headers_with_a_newline_are_refused(run_regauth, htpasswd_registry, config_dir):
    write_config(config_dir, {"HttpHeaders": {"X-Bad": "a\r\nInjected: yes"}})
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 3
    assert "HttpHeaders" in result.stderr and "X-Bad" in result.stderr
    assert not any(r.method == "GET" and r.path == "/v2/"
                   for r in htpasswd_registry.requests())


def test_login_with_identity_token(run_regauth, token_registry, config_dir, tmp_path):
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    token = read_config(config_dir)["auths"][token_registry.hostport]["identitytoken"]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    result = run_regauth(["--config", str(fresh), "login", "--identity-token-stdin",
                          token_registry.hostport], input=token + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Login Succeeded\n"
    entry = read_config(str(fresh))["auths"][token_registry.hostport]
    assert entry == {"identitytoken": token}
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    pushed = run_regauth(["--config", str(fresh), "push", "-q", str(tmp_path / "oci"),
                          f"{token_registry.hostport}/team/app:1"], timeout=120)
    assert pushed.returncode == 0, pushed.stderr
    bad = run_regauth(["--config", str(fresh), "login", "--identity-token-stdin",
                       token_registry.hostport], input="rt-not-a-token\n")
    assert bad.returncode == 5
    assert "hint: the identity token was refused" in bad.stderr


def test_identity_token_on_basic_registry_is_refused(run_regauth, htpasswd_registry, config_dir):
    result = run_regauth(["--config", config_dir, "login", "--identity-token-stdin",
                          htpasswd_registry.hostport], input="rt-token\n")
    assert result.returncode == 2
    assert "uses Basic authentication" in result.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


def test_push_creds_are_used_once_and_stored_nowhere(run_regauth, htpasswd_registry,
                                                     token_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    digest_file = tmp_path / "digest"
    result = run_regauth(["--config", config_dir, "push", "--creds", "alice", "--password-stdin",
                          "--digestfile", str(digest_file), str(tmp_path / "oci"),
                          f"{htpasswd_registry.hostport}/once/app:1"], input="alicepw\n",
                         timeout=120)
    assert result.returncode == 0, result.stderr
    digest = result.stdout.strip().splitlines()[-1].split("digest: ")[1].split()[0]
    assert digest_file.read_text() == digest
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
    inline = run_regauth(["--config", config_dir, "push", "--creds", "bob:bobpw",
                          str(tmp_path / "oci"), f"{token_registry.hostport}/once/app:1"],
                         timeout=120)
    assert inline.returncode == 6
    assert "WARNING! Using a password in --creds is insecure" in inline.stderr
    assert "bob" in inline.stderr and "bobpw" not in inline.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
