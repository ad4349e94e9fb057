"""containers auth.json (--authfile, REGISTRY_AUTH_FILE) both ways with the real skopeo."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpers import auth_of, mode_of
from support import ALICE, BOB
from support.images import make_oci_layout

pytestmark = pytest.mark.requires("skopeo")


def skopeo(*args, env=None, input=None) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120,
                          input=input, env={**os.environ, **(env or {})})


def push(run_regauth, tmp_path, reference, *global_flags, env=None):
    if not (tmp_path / "oci").exists():
        make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    return run_regauth([*global_flags, "push", "-q", str(tmp_path / "oci"), reference], env=env,
                       timeout=120)


def test_skopeo_logs_in_and_regauth_pushes(run_regauth, token_registry, tmp_path):
    authfile = tmp_path / "auth.json"
    logged = skopeo("login", "--authfile", str(authfile), "--tls-verify=false", "-u", ALICE[0],
                    "--password-stdin", token_registry.hostport, input=ALICE[1] + "\n")
    assert logged.returncode == 0, logged.stderr
    result = push(run_regauth, tmp_path, f"{token_registry.hostport}/team/app:1",
                  env={"REGISTRY_AUTH_FILE": str(authfile)})
    assert result.returncode == 0, result.stderr
    assert token_registry.manifests_on_disk()["team/app"]["tags"] == ["1"]
    assert not os.path.exists(os.path.join(run_regauth.home, ".docker"))
    got = run_regauth(["get", token_registry.hostport], env={"REGISTRY_AUTH_FILE": str(authfile)})
    assert json.loads(got.stdout)["Username"] == "alice"


def test_regauth_logs_in_and_skopeo_reads(run_regauth, htpasswd_registry, tmp_path):
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {}, "x-podman-extra": {"kept": True}}))
    os.chmod(authfile, 0o600)
    login = run_regauth(["--authfile", str(authfile), "login", "-u", ALICE[0], "--password-stdin",
                         htpasswd_registry.hostport], input=ALICE[1] + "\n")
    assert login.returncode == 0, login.stderr
    content = json.loads(authfile.read_text())
    assert content["auths"] == {htpasswd_registry.hostport: {"auth": auth_of(*ALICE)}}
    assert content["x-podman-extra"] == {"kept": True}
    assert mode_of(str(authfile)) == 0o600
    assert not os.path.exists(os.path.join(run_regauth.home, ".docker"))
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    ref = f"docker://{htpasswd_registry.hostport}/sk/app:1"
    copied = skopeo("copy", "--dest-tls-verify=false", "--authfile", str(authfile),
                    f"oci:{tmp_path / 'oci'}:latest", ref)
    assert copied.returncode == 0, copied.stderr
    inspected = skopeo("inspect", "--tls-verify=false", "--authfile", str(authfile), ref)
    assert inspected.returncode == 0, inspected.stderr
    logout = run_regauth(["--authfile", str(authfile), "logout", htpasswd_registry.hostport])
    assert logout.returncode == 0, logout.stderr
    assert json.loads(authfile.read_text())["auths"] == {}
    denied = skopeo("inspect", "--tls-verify=false", "--authfile", str(authfile), ref)
    assert denied.returncode != 0


def test_most_specific_key_wins(run_regauth, token_registry, tmp_path):
    host = token_registry.hostport
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {host: {"auth": auth_of(*BOB)},
                                              f"{host}/team": {"auth": auth_of(*ALICE)}}}))
    flags = ["--authfile", str(authfile)]
    assert push(run_regauth, tmp_path, f"{host}/team/app:1", *flags).returncode == 0
    other = push(run_regauth, tmp_path, f"{host}/other/app:1", *flags)
    assert other.returncode == 6 and "bob" in other.stderr
    # regauth logs in to a namespace as podman does; skopeo uses that key for the repository.
    second = tmp_path / "second.json"
    login = run_regauth(["--authfile", str(second), "login", "-u", ALICE[0], "--password-stdin",
                         f"{host}/team"], input=ALICE[1] + "\n")
    assert login.returncode == 0, login.stderr
    assert list(json.loads(second.read_text())["auths"]) == [f"{host}/team"]
    inspected = skopeo("inspect", "--tls-verify=false", "--authfile", str(second),
                       f"docker://{host}/team/app:1")
    assert inspected.returncode == 0, inspected.stderr
    outside = skopeo("inspect", "--tls-verify=false", "--authfile", str(second),
                     f"docker://{host}/elsewhere/app:1")
    assert outside.returncode != 0
    assert run_regauth(["--authfile", str(second), "logout", f"{host}/team"]).returncode == 0
    assert json.loads(second.read_text())["auths"] == {}


def test_authfile_flag_wins_over_environment(run_regauth, token_registry, tmp_path):
    host = token_registry.hostport
    bob = tmp_path / "bob.json"
    bob.write_text(json.dumps({"auths": {host: {"auth": auth_of(*BOB)}}}))
    alice = tmp_path / "alice.json"
    alice.write_text(json.dumps({"auths": {host: {"auth": auth_of(*ALICE)}}}))
    env = {"REGISTRY_AUTH_FILE": str(bob)}
    assert push(run_regauth, tmp_path, f"{host}/team/app:1", env=env).returncode == 6
    result = push(run_regauth, tmp_path, f"{host}/team/app:1", "--authfile", str(alice), env=env)
    assert result.returncode == 0, result.stderr


def test_cred_helpers_in_auth_json(run_regauth, htpasswd_registry, tmp_path, pass_env):
    host = htpasswd_registry.hostport
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"credHelpers": {host: "pass"}}))
    login = run_regauth(["--authfile", str(authfile), "login", "-u", ALICE[0], "--password-stdin",
                         host], input=ALICE[1] + "\n", env=pass_env)
    assert login.returncode == 0, login.stderr
    assert "auths" not in json.loads(authfile.read_text())  # the secret is in pass only
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    copied = skopeo("copy", "--dest-tls-verify=false", "--authfile", str(authfile),
                    f"oci:{tmp_path / 'oci'}:latest", f"docker://{host}/helper/app:1",
                    env=pass_env)
    assert copied.returncode == 0, copied.stderr
