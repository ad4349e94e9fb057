"""get, token and export: credentials for scripts, curl and Kubernetes, from any store."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess

import pytest

from helpers import auth_of, login, mode_of
from support import ALICE, BOB
from support.images import make_oci_layout


def run(*args, input=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, input=input,
                          timeout=timeout)


# ---- get -----------------------------------------------------------------


def test_get_prints_what_a_helper_prints_from_config_json(run_regauth, htpasswd_registry,
                                                          config_dir):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    result = run_regauth(["--config", config_dir, "get", f"http://{htpasswd_registry.hostport}/"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == json.dumps({"ServerURL": htpasswd_registry.hostport,
                                        "Username": "alice", "Secret": "alicepw"},
                                       separators=(",", ":")) + "\n"


def test_get_identity_token_from_pass_matches_the_helper(run_regauth, token_registry,
                                                         config_dir, pass_env):
    """Stored in docker-credential-pass: regauth get prints what the helper's own get prints."""
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE,
                 env=pass_env).returncode == 0
    result = run_regauth(["--config", config_dir, "get", token_registry.hostport], env=pass_env)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["Username"] == "<token>" and got["Secret"]
    helper = subprocess.run(["docker-credential-pass", "get"], input=token_registry.hostport,
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, **pass_env})
    assert helper.returncode == 0, helper.stdout
    assert json.loads(helper.stdout) == got


def test_get_of_unknown_registry_exits_5(run_regauth, config_dir):
    result = run_regauth(["--config", config_dir, "get", "registry.example:5000"])
    assert result.returncode == 5
    assert result.stdout == ""
    assert "no credentials for registry.example:5000" in result.stderr


# ---- token ---------------------------------------------------------------


def curl_status(url: str, token: str | None, method: str = "GET") -> int:
    headers = ["-H", f"Authorization: Bearer {token}"] if token else []
    result = run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
                 *headers, url)
    return int(result.stdout)


def test_token_works_with_curl(run_regauth, token_registry, config_dir, tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    pushed = run_regauth(["--config", config_dir, "push", "-q", str(tmp_path / "oci"),
                          f"{token_registry.hostport}/team/app:1"], timeout=120)
    assert pushed.returncode == 0, pushed.stderr
    pull = run_regauth(["--config", config_dir, "token", f"{token_registry.hostport}/team/app"])
    assert pull.returncode == 0, pull.stderr
    assert pull.stdout.endswith("\n") and pull.stdout.count("\n") == 1
    token = pull.stdout.strip()
    tags = f"{token_registry.url}/v2/team/app/tags/list"
    assert curl_status(tags, None) == 401
    assert curl_status(tags, token) == 200
    uploads = f"{token_registry.url}/v2/team/app/blobs/uploads/"
    assert curl_status(uploads, token, "POST") == 401  # pull only
    push = run_regauth(["--config", config_dir, "token", "--push",
                        f"{token_registry.hostport}/team/app"])
    assert push.returncode == 0, push.stderr
    assert curl_status(uploads, push.stdout.strip(), "POST") == 202


def test_token_for_basic_registry_exits_9(run_regauth, htpasswd_registry, config_dir):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    result = run_regauth(["--config", config_dir, "token", f"{htpasswd_registry.hostport}/a/b"])
    assert result.returncode == 9
    assert result.stdout == ""
    assert "uses Basic authentication" in result.stderr


# ---- export --------------------------------------------------------------


def test_export_dockerconfigjson_from_file_and_helper(run_regauth, htpasswd_registry,
                                                      token_registry, config_dir, pass_env,
                                                      tmp_path):
    """One registry inline, one in pass (credHelpers): both in one document skopeo can use."""
    basic, token = htpasswd_registry.hostport, token_registry.hostport
    with open(os.path.join(config_dir, "config.json"), "w") as f:
        json.dump({"credHelpers": {token: "pass"}}, f)
    assert login(run_regauth, config_dir, basic, *ALICE, env=pass_env).returncode == 0
    assert login(run_regauth, config_dir, token, *ALICE, env=pass_env).returncode == 0
    result = run_regauth(["--config", config_dir, "export", basic, token], env=pass_env)
    assert result.returncode == 0, result.stderr
    assert "secrets" not in result.stderr  # not a terminal
    document = json.loads(result.stdout)
    assert document["auths"][basic] == {"auth": auth_of(*ALICE)}
    assert set(document["auths"][token]) == {"identitytoken"}
    # The document is a working auth file for skopeo, and a working config.json.
    authfile = tmp_path / "exported.json"
    authfile.write_text(result.stdout)
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1000])
    copied = run("skopeo", "copy", "--dest-tls-verify=false", "--authfile", str(authfile),
                 f"oci:{tmp_path / 'oci'}:latest", f"docker://{basic}/exp/app:1", timeout=120)
    assert copied.returncode == 0, copied.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.json").write_text(result.stdout)
    pushed = run_regauth(["--config", str(elsewhere), "push", "-q", str(tmp_path / "oci"),
                          f"{token}/exp/app:1"], timeout=120)
    assert pushed.returncode == 0, pushed.stderr


def test_export_k8s_secret_is_what_kubectl_makes(run_regauth, htpasswd_registry, config_dir):
    basic = htpasswd_registry.hostport
    assert login(run_regauth, config_dir, basic, *ALICE).returncode == 0
    result = run_regauth(["--config", config_dir, "export", "--k8s-secret", "pull-secret",
                          "--namespace", "ci", basic])
    assert result.returncode == 0, result.stderr
    secret = json.loads(result.stdout)
    data = base64.b64decode(secret["data"][".dockerconfigjson"])
    plain = run_regauth(["--config", config_dir, "export", basic])
    assert data.decode() + "\n" == plain.stdout  # round trip
    assert json.loads(data)["auths"][basic]["auth"] == auth_of(*ALICE)
    # kubectl parses it offline ...
    parsed = run("kubectl", "label", "--local", "-f", "-", "checked=yes", "-o", "json",
                 input=result.stdout)
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)["type"] == "kubernetes.io/dockerconfigjson"
    # ... and makes the same Secret from the same document.
    made = run("kubectl", "create", "secret", "generic", "pull-secret", "-n", "ci",
               "--type=kubernetes.io/dockerconfigjson", "--from-file=.dockerconfigjson=/dev/stdin",
               "--dry-run=client", "-o", "json", input=data.decode())
    assert made.returncode == 0, made.stderr
    reference = json.loads(made.stdout)
    del reference["metadata"]["creationTimestamp"]
    assert secret == reference


def test_export_missing_registry_exits_5_naming_it(run_regauth, htpasswd_registry, config_dir):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    result = run_regauth(["--config", config_dir, "export", htpasswd_registry.hostport,
                          "missing.example"])
    assert result.returncode == 5
    assert result.stdout == ""
    assert "missing.example" in result.stderr


def test_export_output_file_is_private_and_never_a_device(run_regauth, htpasswd_registry,
                                                          config_dir, tmp_path):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    out = tmp_path / "pull.json"
    out.write_text("old")
    os.chmod(out, 0o644)
    result = run_regauth(["--config", config_dir, "export", "-o", str(out),
                          htpasswd_registry.hostport])
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert mode_of(str(out)) == 0o600
    assert json.loads(out.read_text())["auths"][htpasswd_registry.hostport]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    os.symlink(fifo, link)
    refused = run_regauth(["--config", config_dir, "export", "-o", str(link),
                           htpasswd_registry.hostport])
    assert refused.returncode == 10, refused.stderr
    assert "not a regular file" in refused.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.path.islink(link)


def test_export_warns_on_a_terminal(regauth, htpasswd_registry, config_dir, tmp_path):
    import pty
    import select
    import time

    with open(os.path.join(config_dir, "config.json"), "w") as f:
        json.dump({"auths": {htpasswd_registry.hostport: {"auth": auth_of(*BOB)}}}, f)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(regauth, [regauth, "--config", config_dir, "export",
                               htpasswd_registry.hostport])
        finally:
            os._exit(127)
    output = b""
    deadline = time.monotonic() + 30
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
        if done == 0:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text
    assert "WARNING: the output holds secrets" in text
    assert auth_of(*BOB) in text
