"""What counts as proof (docs/security.md "What counts as proof"): a login, a token and the push
gate count only when the origin that received the credentials (or the request) answered. A
redirect to another origin that answers 200 is refused with exit 9, naming both origins, and
nothing is stored."""

from __future__ import annotations

import json
import os

import pytest

from helpers import auth_of, write_config
from support.fixture_server import FixtureServer, Reply
from support.images import make_oci_layout

PASSWORD = "proof-Pw-51c2"
TOKEN_BODY = b'{"token":"tok-anyone","expires_in":300}'


@pytest.fixture
def servers():
    started = []

    def start(route):
        server = FixtureServer(route).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def recording_helper(tmp_path):
    """A credential helper that records every call (action and stdin) in a file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helper.log"
    script = bin_dir / "docker-credential-record"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {log}\ncat >> {log}\necho >> {log}\n"
                      "[ \"$1\" = get ] && echo 'credentials not found in native keychain' "
                      "&& exit 1\nexit 0\n")
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}, log


def login(run_regauth, config_dir, server, env=None, *extra):
    """regauth login; EXTRA are flags of the login command (e.g. --format json)."""
    return run_regauth(["--config", config_dir, "--timeout", "5", "login", *extra, "-u", "alice",
                        "--password-stdin", server], input=PASSWORD + "\n", env=env, timeout=60)


def assert_nothing_stored(config_dir, helper_log=None):
    path = os.path.join(config_dir, "config.json")
    if os.path.exists(path):
        with open(path) as f:
            config = json.load(f)
        for entry in config.get("auths", {}).values():
            assert "auth" not in entry and "identitytoken" not in entry, config
    if helper_log is not None:
        calls = helper_log.read_text() if helper_log.exists() else ""
        assert "store" not in calls.split(), calls
        assert PASSWORD not in calls


def assert_no_secret(result, *servers_without_credentials):
    for text in (result.stdout, result.stderr):
        assert PASSWORD not in text and auth_of("alice", PASSWORD) not in text
    for server in servers_without_credentials:
        for request in server.requests:
            assert "authorization" not in request.headers, request


def basic_challenge():
    return Reply(401, [("WWW-Authenticate", 'Basic realm="r"')])


# ---- login -------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [302, 307])
def test_basic_login_redirected_to_another_origin_is_refused(run_regauth, config_dir, servers,
                                                              recording_helper, status):
    env, helper_log = recording_helper
    write_config(config_dir, {"credsStore": "record"})
    other = servers(lambda r: Reply(200, [], b"{}"))

    def route(request):
        if "authorization" not in request.headers:
            return basic_challenge()
        return Reply(status, [("Location", f"http://127.0.0.1:{other.port}/v2/")])

    registry = servers(route)
    result = login(run_regauth, config_dir, registry.hostport, env)
    assert result.returncode == 9, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert f"http://127.0.0.1:{registry.port}" in line and f"http://127.0.0.1:{other.port}" in line
    assert "not verified" in line and "nothing was stored" in line
    assert "Login Succeeded" not in result.stdout
    assert len(other.requests) == 1  # it answered 200, without ever seeing the credentials
    assert_no_secret(result, other)
    assert_nothing_stored(config_dir, helper_log)


def test_token_realm_redirected_to_another_origin_is_refused(run_regauth, config_dir, servers):
    anyone = servers(lambda r: Reply(200, [("Content-Type", "application/json")], TOKEN_BODY))

    def route(request):
        if request.path == "/token":
            return Reply(307, [("Location", f"http://127.0.0.1:{anyone.port}/token")])
        if request.headers.get("authorization") == "Bearer tok-anyone":
            return Reply(200, [], b"{}")
        return Reply(401, [("WWW-Authenticate",
                            f'Bearer realm="http://127.0.0.1:{registry.port}/token",'
                            'service="s"')])

    registry = servers(route)
    result = login(run_regauth, config_dir, registry.hostport, None, "--format", "json")
    assert result.returncode == 9, result.stderr
    assert result.stdout == ""  # no {"verified": true}
    assert f"http://127.0.0.1:{anyone.port}" in result.stderr
    assert "nothing was stored" in result.stderr
    # The token never reached the registry: the only requests there are the ping and /token.
    assert [r.path for r in registry.requests] == ["/v2/", "/token"]
    assert_no_secret(result, anyone)
    assert_nothing_stored(config_dir)


def test_bearer_check_redirected_to_another_origin_is_refused(run_regauth, config_dir, servers):
    other = servers(lambda r: Reply(200, [], b"{}"))

    def route(request):
        if request.path == "/token":
            return Reply(200, [("Content-Type", "application/json")], TOKEN_BODY)
        if request.headers.get("authorization") == "Bearer tok-anyone":
            return Reply(307, [("Location", f"http://127.0.0.1:{other.port}/v2/")])
        return Reply(401, [("WWW-Authenticate",
                            f'Bearer realm="http://127.0.0.1:{registry.port}/token",'
                            'service="s"')])

    registry = servers(route)
    result = login(run_regauth, config_dir, registry.hostport, None, "--format", "json")
    assert result.returncode == 9, result.stderr
    assert result.stdout == ""
    assert f"http://127.0.0.1:{other.port}" in result.stderr
    assert len(other.requests) == 1
    assert_no_secret(result, other)
    assert_nothing_stored(config_dir)


def test_redirect_within_the_registry_origin_still_verifies(run_regauth, config_dir, servers):
    def route(request):
        if "authorization" not in request.headers:
            return basic_challenge()
        if request.path == "/v2/":
            return Reply(307, [("Location", "/v2/elsewhere/")])
        return Reply(200, [], b"{}")

    registry = servers(route)
    result = login(run_regauth, config_dir, registry.hostport, None, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verified"] is True
    assert [r.path for r in registry.requests] == ["/v2/", "/v2/", "/v2/elsewhere/"]


# ---- push gate ---------------------------------------------------------------------------------

def test_push_gate_answered_by_another_origin_is_refused(run_regauth, config_dir, servers,
                                                         tmp_path):
    other = servers(lambda r: Reply(202, [("Location", "/upload/1")]))

    def route(request):
        if request.path == "/v2/":
            return Reply(200, [], b"{}")
        if request.method == "POST" and request.path.endswith("/blobs/uploads/"):
            return Reply(307, [("Location", f"http://127.0.0.1:{other.port}/v2/app/blobs/uploads/")])
        if request.method == "HEAD":
            return Reply(404)
        return Reply(500)

    registry = servers(route)
    layout = str(tmp_path / "layout")
    make_oci_layout(layout, (100,))
    result = run_regauth(["--config", config_dir, "--timeout", "5", "push", f"oci:{layout}",
                          f"{registry.hostport}/app:1"], timeout=60)
    assert result.returncode == 9, result.stderr
    assert "push gate" in result.stderr and "nothing was sent" in result.stderr
    assert f"http://127.0.0.1:{other.port}" in result.stderr
    assert [r.method for r in other.requests] == ["POST"]
    # Nothing but the ping, the gate and perhaps the manifest lookup reached the registry.
    assert {r.method for r in registry.requests} <= {"GET", "POST", "HEAD"}
    assert not any(r.method in ("PUT", "PATCH") for r in registry.requests + other.requests)
