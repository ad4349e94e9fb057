"""regauth as a docker-credential-helpers program: `regauth credential-helper VERB` and a
`docker-credential-regauth` symlink, spoken to directly and through the real Docker CLI."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time

import pytest

from helpers import read_config

DOCKER = shutil.which("docker")
NOT_FOUND = "credentials not found in native keychain\n"
JOB_TOKEN = "glcbt-64_helper-job-token"


@pytest.fixture
def helper_bin(regauth, tmp_path):
    """A folder holding docker-credential-regauth -> regauth."""
    bin_dir = tmp_path / "helper-bin"
    bin_dir.mkdir()
    os.symlink(regauth, bin_dir / "docker-credential-regauth")
    return bin_dir


def helper(run_regauth, config_dir, verb, input=None, env=None):
    return run_regauth(["--config", config_dir, "credential-helper", verb],
                       input=input if input is not None else "", env=env)


def test_protocol_get_store_erase_list(run_regauth, config_dir):
    stored = helper(run_regauth, config_dir, "store", json.dumps(
        {"ServerURL": "https://Registry.Example:5000/v2/", "Username": "alice",
         "Secret": "alicepw"}))
    assert (stored.returncode, stored.stdout) == (0, ""), stored.stdout + stored.stderr
    assert "registry.example:5000" in read_config(config_dir)["auths"]

    got = helper(run_regauth, config_dir, "get", "registry.example:5000")
    assert got.returncode == 0, got.stdout
    assert json.loads(got.stdout) == {"ServerURL": "registry.example:5000", "Username": "alice",
                                      "Secret": "alicepw"}
    assert got.stdout.endswith("}\n")

    listed = helper(run_regauth, config_dir, "list", "unused")
    assert json.loads(listed.stdout) == {"registry.example:5000": "alice"}

    # An identity token goes in and out as Username "<token>".
    helper(run_regauth, config_dir, "store", json.dumps(
        {"ServerURL": "token.example", "Username": "<token>", "Secret": "refresh-me"}))
    token = json.loads(helper(run_regauth, config_dir, "get", "token.example\n").stdout)
    assert token == {"ServerURL": "token.example", "Username": "<token>", "Secret": "refresh-me"}

    erased = helper(run_regauth, config_dir, "erase", "registry.example:5000")
    assert erased.returncode == 0, erased.stdout
    gone = helper(run_regauth, config_dir, "get", "registry.example:5000")
    assert (gone.returncode, gone.stdout) == (1, NOT_FOUND)
    again = helper(run_regauth, config_dir, "erase", "registry.example:5000")
    assert (again.returncode, again.stdout) == (1, NOT_FOUND)


def test_protocol_errors_on_stdout_with_exit_1(run_regauth, config_dir, helper_bin):
    for verb, given, expected in [
        ("get", "", "no credentials server URL\n"),
        ("erase", "  \n", "no credentials server URL\n"),
        ("store", json.dumps({"ServerURL": "", "Username": "a", "Secret": "b"}),
         "no credentials server URL\n"),
        ("store", json.dumps({"ServerURL": "r.example", "Username": "", "Secret": "b"}),
         "no credentials username\n"),
        ("store", "not json", "the credentials on stdin are not a JSON object\n"),
        ("fetch", "r.example", "Unknown credential action `fetch`\n"),
    ]:
        result = helper(run_regauth, config_dir, verb, given)
        assert (result.returncode, result.stdout) == (1, expected), (verb, result)
    assert not os.path.exists(os.path.join(config_dir, "config.json"))

    program = str(helper_bin / "docker-credential-regauth")
    env = {**run_regauth.base_env, "DOCKER_CONFIG": config_dir}
    for args in ([], ["get", "extra"]):
        usage = subprocess.run([program, *args], capture_output=True, text=True, env=env,
                               timeout=30, stdin=subprocess.DEVNULL)
        assert usage.returncode == 1 and usage.stdout.startswith("Usage: docker-credential-regauth")
    version = subprocess.run([program, "version"], capture_output=True, text=True, env=env,
                             timeout=30)
    assert (version.returncode, version.stdout) == (0, "docker-credential-regauth (regauth) 0.1.0\n")


def test_get_answers_from_the_identity_first(run_regauth, config_dir):
    job = {"GITLAB_CI": "true", "CI_REGISTRY": "gitlab.example.com:5050",
           "CI_JOB_TOKEN": JOB_TOKEN}
    helper(run_regauth, config_dir, "store", json.dumps(
        {"ServerURL": "gitlab.example.com:5050", "Username": "alice", "Secret": "alicepw"}))
    got = helper(run_regauth, config_dir, "get", "gitlab.example.com:5050", env=job)
    assert json.loads(got.stdout)["Secret"] == JOB_TOKEN
    assert json.loads(got.stdout)["Username"] == "gitlab-ci-token"
    stored = helper(run_regauth, config_dir, "get", "gitlab.example.com:5050")
    assert json.loads(stored.stdout)["Username"] == "alice"
    off = run_regauth(["--config", config_dir, "--no-identity", "credential-helper", "get"],
                      input="gitlab.example.com:5050", env=job)
    assert json.loads(off.stdout)["Username"] == "alice"


def test_a_config_naming_regauth_never_runs_regauth_again(run_regauth, config_dir, helper_bin):
    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, "config.json"), "w") as f:
        json.dump({"credHelpers": {"r.example": "regauth"}, "credsStore": "regauth"}, f)
    # helper_bin on PATH: a regauth that ran the helper would find it, and recurse.
    env = {"PATH": f"{helper_bin}:{run_regauth.base_env['PATH']}"}
    stored = helper(run_regauth, config_dir, "store", json.dumps(
        {"ServerURL": "r.example", "Username": "alice", "Secret": "alicepw"}), env=env)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    own = json.load(open(os.path.join(config_dir, "regauth-credentials.json")))
    assert list(own["auths"]) == ["r.example"]
    assert read_config(config_dir)["auths"] == {"r.example": {}}
    got = helper(run_regauth, config_dir, "get", "r.example", env=env)
    assert json.loads(got.stdout)["Secret"] == "alicepw"
    listed = run_regauth(["--config", config_dir, "ls"], env=env)
    assert "r.example" in listed.stdout and "alice" in listed.stdout, listed.stderr


@pytest.mark.skipif(not DOCKER, reason="the Docker CLI is not on PATH: the cross-check did not run")
def test_docker_login_through_the_regauth_helper(run_regauth, start_token_server, start_registry,
                                                 config_dir, helper_bin, tmp_path):
    server = start_token_server(realm_path="/jwt/auth", service="container_registry", users={
        "gitlab-ci-token": (JOB_TOKEN, {"*": {"pull", "push"}}),
        "alice": ("alicepw", {"*": {"pull", "push"}})})
    registry = start_registry(auth="token", token_server=server)
    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, "config.json"), "w") as f:
        json.dump({"credHelpers": {registry.hostport: "regauth"}}, f)
    os.symlink(DOCKER, helper_bin / "docker")
    job = {"GITLAB_CI": "true", "CI_REGISTRY": registry.hostport, "CI_JOB_TOKEN": JOB_TOKEN}

    def docker(args, env, input=None):
        return subprocess.run([str(helper_bin / "docker"), *args], input=input,
                              capture_output=True, text=True, timeout=60,
                              env={**run_regauth.base_env, "PATH": str(helper_bin),
                                   "DOCKER_CONFIG": config_dir, **env})

    # No -u: Docker asks the helper, and regauth answers with the job's identity (Docker then
    # verifies stored credentials through its daemon, which this machine does not run).
    result = docker(["login", registry.hostport], job)
    assert "[Username: gitlab-ci-token]" in result.stdout + result.stderr, result.stderr
    # The job token given with -u: Docker verifies it client-side and hands what it got to the
    # helper's store. The job token itself is never stored (this token server hands out a
    # refresh token, which Docker files as an identity token, as with any helper).
    result = docker(["login", "-u", "gitlab-ci-token", "--password-stdin", registry.hostport],
                    job, input=JOB_TOKEN + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Login Succeeded" in result.stdout
    assert server.token_requests()[-1].query["account"] == ["gitlab-ci-token"]
    for name in ("regauth-credentials.json", "config.json"):
        path = os.path.join(config_dir, name)
        assert not os.path.exists(path) or JOB_TOKEN not in open(path).read()

    # With -u: Docker hands the password to regauth's store.
    result = docker(["login", "-u", "alice", "--password-stdin", registry.hostport], {},
                    input="alicepw\n")
    assert result.returncode == 0, result.stdout + result.stderr
    own = json.load(open(os.path.join(config_dir, "regauth-credentials.json")))
    assert list(own["auths"]) == [registry.hostport]
    listed = run_regauth(["--config", config_dir, "ls", "--format", "json"],
                         env={"PATH": str(helper_bin)})
    # (Docker files the token server's refresh token: Username "<token>".)
    assert json.loads(listed.stdout) == [{
        "registry": registry.hostport, "username": "<token>",
        "store": os.path.join(config_dir, "regauth-credentials.json")}], listed.stdout
    assert read_config(config_dir)["auths"] == {registry.hostport: {}}

    result = docker(["logout", registry.hostport], {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.load(open(os.path.join(config_dir, "regauth-credentials.json")))["auths"] == {}


def on_a_terminal(argv: list, input: bytes, env: dict) -> tuple[int, bytes]:
    """Runs ARGV with stdout on a pseudo-terminal (stdin and stderr pipes) and returns its exit
    code and the raw bytes it wrote there, line ends as written (the pty's \\r\\n undone)."""
    main, terminal = pty.openpty()
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=terminal,
                                   stderr=subprocess.DEVNULL, env=env)
    finally:
        os.close(terminal)
    output = b""
    try:
        process.stdin.write(input)
        process.stdin.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            output += chunk
        code = process.wait(timeout=30)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    return code, output.replace(b"\r\n", b"\n")


def test_error_lines_are_escaped_and_answers_are_ascii_on_a_terminal(run_regauth, config_dir):
    """Error lines go through the one sanitiser, on a terminal and off it (the Docker CLI shows
    them verbatim); the fixed lines clients compare stay byte for byte. A JSON answer keeps its
    bytes for a client, and is ASCII only (the same JSON) on a terminal."""
    # (A server URL with control bytes is refused without being echoed; a bidi override is
    # echoed, and reached the terminal raw before.)
    hostile = "r.example\u202eevil"
    expected_error = "invalid registry 'r.example\\u202eevil': invalid host name\n"
    stored = helper(run_regauth, config_dir, "store", json.dumps(
        {"ServerURL": "r.example", "Username": "al\u202eice", "Secret": "alicepw"}))
    assert stored.returncode == 0, stored.stdout

    piped = helper(run_regauth, config_dir, "get", hostile)
    assert piped.returncode == 1
    assert piped.stdout == expected_error
    answer = helper(run_regauth, config_dir, "get", "r.example")
    assert answer.stdout == '{"Secret":"alicepw","ServerURL":"r.example","Username":"al\u202eice"}\n'

    argv = [run_regauth.binary, "--config", config_dir, "credential-helper", "get"]
    env = {**run_regauth.base_env, "HOME": run_regauth.home}
    env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})
    code, shown = on_a_terminal(argv, hostile.encode(), env)
    assert code == 1
    assert shown == expected_error.encode()
    code, shown = on_a_terminal(argv, b"r.example", env)
    assert code == 0
    assert shown == b'{"Secret":"alicepw","ServerURL":"r.example","Username":"al\\u202eice"}\n'
    assert json.loads(shown) == json.loads(answer.stdout)
    code, shown = on_a_terminal(argv, b"unknown.example", env)
    assert (code, shown) == (1, NOT_FOUND.encode())
