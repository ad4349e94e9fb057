"""Cross-checks with the Docker CLI (client only; no daemon needed for login/logout)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from helpers import auth_of, login, read_config
from support import ALICE, BOB

DOCKER = shutil.which("docker")


@pytest.fixture
def docker(tmp_path):
    if not DOCKER:
        # visible in the summary (pytest -rs): the cross-check needs the Docker CLI
        pytest.skip("the Docker CLI is not on PATH: the cross-check with it did not run")
    # A PATH with docker but without pass, so the Docker CLI keeps credentials in the file
    # (with pass on PATH it would pick it as its default store).
    bin_dir = tmp_path / "docker-bin"
    bin_dir.mkdir()
    os.symlink(DOCKER, bin_dir / "docker")

    def run(args, config_dir, input=None):
        return subprocess.run([str(bin_dir / "docker"), "--config", config_dir, *args],
                              input=input, capture_output=True, text=True, timeout=60,
                              env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    return run


def test_docker_reads_what_regauth_wrote(run_regauth, docker, htpasswd_registry, config_dir):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    # (docker login with stored credentials needs a daemon; logout reads and rewrites the file)
    result = docker(["logout", htpasswd_registry.hostport], config_dir)
    assert result.returncode == 0, result.stderr
    assert f"Removing login credentials for {htpasswd_registry.hostport}" in result.stdout
    assert read_config(config_dir)["auths"] == {}


def test_regauth_reads_what_docker_wrote(run_regauth, docker, htpasswd_registry, config_dir):
    result = docker(["login", "-u", "bob", "--password-stdin", htpasswd_registry.hostport],
                    config_dir, input="bobpw\n")
    assert result.returncode == 0, result.stderr
    before = open(os.path.join(config_dir, "config.json"), "rb").read()
    listed = run_regauth(["--config", config_dir, "ls"])
    assert "bob" in listed.stdout and htpasswd_registry.hostport in listed.stdout
    relogin = run_regauth(["--config", config_dir, "login", htpasswd_registry.hostport])
    assert relogin.returncode == 0, relogin.stderr
    # regauth's rewrite of a Docker-written file is byte-identical when nothing changed
    assert open(os.path.join(config_dir, "config.json"), "rb").read() == before
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    expected = before.replace(auth_of(*BOB).encode(), auth_of(*ALICE).encode())
    assert open(os.path.join(config_dir, "config.json"), "rb").read() == expected
