"""Credential helpers: the real docker-credential-pass, and stub helpers for the faults."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time

import pytest

from helpers import auth_of, login, make_helper, read_config, with_stub_path, write_config
from support import ALICE
from support.fixture_server import FixtureServer, Reply


def helper_call(env: dict, action: str, data: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker-credential-pass", action], input=data, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=30)


def test_pass_store_get_list_erase_through_regauth(run_regauth, htpasswd_registry, config_dir,
                                                   pass_env):
    write_config(config_dir, {"credsStore": "pass", "psFormat": "x"})
    host = htpasswd_registry.hostport
    result = login(run_regauth, config_dir, host, *ALICE, env=pass_env)
    assert result.returncode == 0, result.stderr
    assert "unencrypted" not in result.stderr
    config = read_config(config_dir)
    assert config["auths"] == {host: {}}  # the Docker CLI's placeholder
    assert "alicepw" not in open(os.path.join(config_dir, "config.json")).read()
    stored = json.loads(helper_call(pass_env, "get", host).stdout)
    assert (stored["Username"], stored["Secret"]) == ALICE
    listed = run_regauth(["--config", config_dir, "ls", "--format", "json"], env=pass_env)
    assert {"registry": host, "store": "credential helper docker-credential-pass",
            "username": "alice"} in json.loads(listed.stdout)
    # login without flags re-validates what pass holds
    again = run_regauth(["--config", config_dir, "login", host], env=pass_env)
    assert again.returncode == 0, again.stderr
    out = run_regauth(["--config", config_dir, "logout", host], env=pass_env)
    assert out.returncode == 0, out.stderr
    assert "docker-credential-pass" not in out.stderr
    assert json.loads(helper_call(pass_env, "list", "").stdout or "{}") == {}
    assert read_config(config_dir) == {"auths": {}, "credsStore": "pass", "psFormat": "x"}


def test_default_store_is_pass_when_initialised(run_regauth, htpasswd_registry, config_dir,
                                                pass_env):
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE, env=pass_env)
    assert result.returncode == 0, result.stderr
    config = read_config(config_dir)
    assert config["credsStore"] == "pass"
    assert config["auths"][htpasswd_registry.hostport] == {}


def test_uninitialised_pass_falls_back_to_file(run_regauth, htpasswd_registry, config_dir):
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    config = read_config(config_dir)
    assert "credsStore" not in config
    assert config["auths"][htpasswd_registry.hostport]["auth"] == auth_of(*ALICE)


def configure_helper(config_dir, host, name):
    write_config(config_dir, {"credHelpers": {host: name}})


def test_hanging_helper_is_killed_after_the_timeout(run_regauth, stub_bin, config_dir, tmp_path):
    marker = tmp_path / "grandchild"
    make_helper(stub_bin, "hang", f"(sleep 30; touch {marker}) &\nsleep 30\n")
    configure_helper(config_dir, "r.example", "hang")
    started = time.monotonic()
    result = run_regauth(["--config", config_dir, "--helper-timeout", "1", "logout", "r.example"],
                         env=with_stub_path(stub_bin), timeout=20)
    assert time.monotonic() - started < 15
    assert result.returncode == 4
    assert "docker-credential-hang get" in result.stderr and "killed" in result.stderr


@pytest.mark.parametrize("script,expect", [
    ("echo 'not json at all'\n", "not a JSON object"),
    ("echo 'boom' >&2\nexit 3\n", "exited with status 3"),
    ("printf '\\033[31mred\\033[0m fail'\nexit 1\n", "exited with status 1: [31mred[0m fail"),
    ("exit 0\n", "not a JSON object"),
])
def test_misbehaving_helpers_give_helper_errors(run_regauth, stub_bin, config_dir, script, expect):
    make_helper(stub_bin, "bad", script)
    configure_helper(config_dir, "r.example", "bad")
    result = run_regauth(["--config", config_dir, "logout", "r.example"],
                         env=with_stub_path(stub_bin))
    assert result.returncode == 4, result.stderr
    assert "docker-credential-bad" in result.stderr
    assert expect in result.stderr
    assert "\033" not in result.stderr.split("regauth: error:")[1]


def test_helper_failure_never_falls_back_to_the_file(run_regauth, stub_bin, htpasswd_registry,
                                                     config_dir):
    make_helper(stub_bin, "broken", 'cat >/dev/null\necho "store failed"\nexit 1\n')
    configure_helper(config_dir, htpasswd_registry.hostport, "broken")
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE,
                   env=with_stub_path(stub_bin))
    assert result.returncode == 4, result.stderr
    assert "store failed" in result.stderr
    assert "alicepw" not in open(os.path.join(config_dir, "config.json")).read()
    assert "auths" not in read_config(config_dir)


def test_broken_helper_for_another_registry_does_not_matter(run_regauth, stub_bin,
                                                            htpasswd_registry, config_dir):
    make_helper(stub_bin, "broken", "exit 1\n")
    write_config(config_dir, {"credHelpers": {"other.example": "broken"}})
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE,
                   env=with_stub_path(stub_bin))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["../evil", "a/b", "-rf", "a b", ".hidden"])
def test_unsafe_helper_names_are_never_run(run_regauth, config_dir, name):
    configure_helper(config_dir, "r.example", name)
    result = run_regauth(["--config", config_dir, "logout", "r.example"])
    assert result.returncode == 4
    assert "invalid credential helper name" in result.stderr


def test_trojan_in_current_directory_is_not_run(regauth, config_dir, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    marker = tmp_path / "trojan-ran"
    make_helper(str(cwd), "evil", f"touch {marker}\n")
    configure_helper(config_dir, "r.example", "evil")
    result = subprocess.run([regauth, "--config", config_dir, "logout", "r.example"],
                            cwd=str(cwd), capture_output=True, text=True, timeout=30,
                            env={"PATH": f":.:{os.environ['PATH']}", "HOME": str(tmp_path)})
    assert result.returncode == 4
    assert "not found on PATH" in result.stderr
    assert not marker.exists()


def test_secret_never_reaches_helper_argv(run_regauth, stub_bin, htpasswd_registry, config_dir,
                                          tmp_path):
    log = tmp_path / "argv.log"
    make_helper(stub_bin, "spy", f'echo "$@" >> {log}\ncat >> {log}.stdin\necho >> {log}.stdin\n')
    configure_helper(config_dir, htpasswd_registry.hostport, "spy")
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE,
                   env=with_stub_path(stub_bin))
    assert result.returncode == 0, result.stderr
    assert "alicepw" not in log.read_text()
    assert log.read_text().split() == ["store"]
    message = json.loads((tmp_path / "argv.log.stdin").read_text().strip())
    assert message == {"ServerURL": htpasswd_registry.hostport, "Username": "alice",
                       "Secret": "alicepw"}


def test_helper_with_huge_output_is_cut_off(run_regauth, stub_bin, config_dir):
    make_helper(stub_bin, "flood", "cat >/dev/null\nyes '{\"Username\":\"x\",' | head -c 50000000\n")
    configure_helper(config_dir, "r.example", "flood")
    result = run_regauth(["--config", config_dir, "logout", "r.example"],
                         env=with_stub_path(stub_bin), timeout=30)
    assert result.returncode == 4
    assert "output larger than" in result.stderr
    assert len(result.stderr) < 2000


@pytest.mark.parametrize("status, expected", [(0, 0), (1, 4)])
def test_helper_exiting_without_reading_stdin(run_regauth, stub_bin, config_dir, tmp_path,
                                              monkeypatch, status, expected):
    # A registry that takes any Basic credentials, so that the 200 KiB password reaches the
    # helper's `store`: it does not fit a pipe buffer, and the helper exits without reading it.
    # The write side sees EPIPE and must neither hang nor die of SIGPIPE; the helper's exit
    # status is its answer, as for the Docker CLI (Go's os/exec ignores that EPIPE).
    def route(request):
        if request.headers.get("authorization", "").startswith("Basic "):
            return Reply(200, [("Docker-Distribution-Api-Version", "registry/2.0")])
        return Reply(401, [("WWW-Authenticate", 'Basic realm="test"')])

    # The fixture server parses headers with http.client, which refuses lines over 64 KiB.
    monkeypatch.setattr(http.client, "_MAXLINE", 1 << 20)
    server = FixtureServer(route).start()
    try:
        marker = tmp_path / "helper-ran"
        make_helper(stub_bin, "early", f"touch {marker}\nexit {status}\n")
        configure_helper(config_dir, server.hostport, "early")
        result = run_regauth(["--config", config_dir, "login", "-u", "alice",
                              "--password-stdin", server.hostport], input="p" * 200_000,
                             env=with_stub_path(stub_bin), timeout=30)
    finally:
        server.stop()
    assert marker.exists(), (result.returncode, result.stderr)  # the helper was asked to store
    assert result.returncode == expected, result.stderr
    if expected:
        assert "docker-credential-early store" in result.stderr
    assert "p" * 100 not in result.stderr + result.stdout


def test_missing_helper(run_regauth, config_dir):
    write_config(config_dir, {"credsStore": "nonexistent-helper"})
    result = run_regauth(["--config", config_dir, "ls"])
    assert result.returncode == 0
    assert "docker-credential-nonexistent-helper list: not found on PATH" in result.stderr
    logout = run_regauth(["--config", config_dir, "logout", "r.example"])
    assert logout.returncode == 4
    assert "not found on PATH" in logout.stderr


def test_server_url_with_control_characters_never_reaches_a_helper(run_regauth, stub_bin,
                                                                   config_dir, tmp_path):
    marker = tmp_path / "ran"
    make_helper(stub_bin, "spy", f"touch {marker}\n")
    write_config(config_dir, {"credsStore": "spy"})
    result = run_regauth(["--config", config_dir, "logout", "r.example\nevil.example"],
                         env=with_stub_path(stub_bin))
    assert result.returncode == 2
    assert not marker.exists()
