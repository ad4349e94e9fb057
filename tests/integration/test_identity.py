"""Credentials from the machine's own identity: CI job tokens and cloud roles, fetched when a
command needs them, never stored.  Registries answer under the real cloud host names on port 443
of a loopback address (--resolve, --certs-dir with the test CA)."""

from __future__ import annotations

import os

from helpers import login, read_config
from support.images import make_oci_layout

GITHUB_TOKEN = "ghs_job-token-0123456789abcdef"
ACTIONS_ENV = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_ACTOR": "octocat"}


def no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr


def test_github_actions_token_pushes_to_ghcr_and_is_never_stored(run_regauth, start_cloud_registry,
                                                                config_dir, tmp_path):
    ghcr = start_cloud_registry("ghcr.io", auth="htpasswd", users={"octocat": GITHUB_TOKEN})
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[1000])

    login_result = run_regauth(["--config", config_dir, *ghcr.flags, "login", "ghcr.io"],
                               env=ACTIONS_ENV)
    assert login_result.returncode == 0, login_result.stderr
    assert "GitHub Actions GITHUB_TOKEN of octocat" in login_result.stderr
    assert "nothing stored" in login_result.stdout
    assert not os.path.exists(os.path.join(config_dir, "config.json"))

    pushed = run_regauth(["--config", config_dir, *ghcr.flags, "push", layout,
                          "ghcr.io/octocat/app:1"], env=ACTIONS_ENV)
    assert pushed.returncode == 0, pushed.stderr
    assert "GitHub Actions GITHUB_TOKEN of octocat" in pushed.stdout + pushed.stderr
    assert "octocat/app" in ghcr.registry.repositories()
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
    no_secret(login_result, GITHUB_TOKEN)
    no_secret(pushed, GITHUB_TOKEN)

    debug = run_regauth(["--config", config_dir, "--debug", *ghcr.flags, "push", "--check",
                         layout, "ghcr.io/octocat/app"], env=ACTIONS_ENV)
    assert debug.returncode == 0, debug.stderr
    no_secret(debug, GITHUB_TOKEN)


def test_github_token_goes_nowhere_but_ghcr_and_only_on_actions(run_regauth, start_cloud_registry,
                                                               config_dir, tmp_path):
    ghcr = start_cloud_registry("ghcr.io", auth="htpasswd", users={"octocat": GITHUB_TOKEN})
    check = ["--config", config_dir, *ghcr.flags, "push", "--check", "unused",
             "ghcr.io/octocat/app"]

    assert run_regauth(check, env=ACTIONS_ENV).returncode == 0
    off = run_regauth(["--no-identity", *check], env=ACTIONS_ENV)
    assert off.returncode == 5, off.stderr
    not_actions = run_regauth(check, env={**ACTIONS_ENV, "GITHUB_ACTIONS": "false"})
    assert not_actions.returncode == 5, not_actions.stderr

    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, "config.json"), "w") as f:
        f.write('{"regauth": {"identity": false}}')
    turned_off = run_regauth(check, env=ACTIONS_ENV)
    assert turned_off.returncode == 5, turned_off.stderr
    assert read_config(config_dir) == {"regauth": {"identity": False}}

    # Another registry in the same job never sees the token.
    other = start_cloud_registry("registry.example.com", auth="htpasswd",
                                 users={"octocat": GITHUB_TOKEN})
    os.remove(os.path.join(config_dir, "config.json"))
    elsewhere = run_regauth(["--config", config_dir, *other.flags, "push", "--check", "unused",
                             "registry.example.com/octocat/app"], env=ACTIONS_ENV)
    assert elsewhere.returncode == 5, elsewhere.stderr  # the registry would take the token


def test_stored_login_wins_over_the_job_token(run_regauth, start_cloud_registry, config_dir):
    ghcr = start_cloud_registry("ghcr.io", auth="htpasswd",
                                users={"octocat": GITHUB_TOKEN, "alice": "alicepw"})
    assert login(run_regauth, config_dir, "ghcr.io", "alice", "alicepw", *ghcr.flags,
                 env=ACTIONS_ENV).returncode == 0
    check = run_regauth(["--config", config_dir, *ghcr.flags, "push", "--check", "unused",
                         "ghcr.io/alice/app"], env={**ACTIONS_ENV, "GITHUB_TOKEN": "wrong"})
    assert check.returncode == 0, check.stderr
    assert "alice" in check.stdout


# ---- GitLab CI ---------------------------------------------------------------

GITLAB_JOB_TOKEN = "glcbt-64_job-token-secret"
GITLAB_REGISTRY_PASSWORD = "glcbt-64_registry-password-secret"


def test_gitlab_ci_job_credentials_go_to_ci_registry_only(run_regauth, start_token_server,
                                                          start_registry, config_dir, tmp_path):
    # GitLab's shape: a token service at /jwt/auth for service container_registry.
    server = start_token_server(realm_path="/jwt/auth", service="container_registry", users={
        "gitlab-ci-token": (GITLAB_JOB_TOKEN, {"*": {"pull", "push"}}),
        "project_7_bot": (GITLAB_REGISTRY_PASSWORD, {"*": {"pull", "push"}})})
    registry = start_registry(auth="token", token_server=server)
    job = {"GITLAB_CI": "true", "CI_REGISTRY": registry.hostport, "CI_JOB_TOKEN": GITLAB_JOB_TOKEN,
           "CI_JOB_ID": "4711"}
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[500])

    logged_in = run_regauth(["--config", config_dir, "login", registry.hostport], env=job)
    assert logged_in.returncode == 0, logged_in.stderr
    assert "GitLab CI CI_JOB_TOKEN as gitlab-ci-token (job 4711)" in logged_in.stderr
    assert server.token_requests()[-1].query["account"] == ["gitlab-ci-token"]
    pushed = run_regauth(["--config", config_dir, "push", layout,
                          f"{registry.hostport}/group/project:1"], env=job)
    assert pushed.returncode == 0, pushed.stderr
    assert "group/project" in registry.repositories()
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
    no_secret(logged_in, GITLAB_JOB_TOKEN)
    no_secret(pushed, GITLAB_JOB_TOKEN)

    # CI_REGISTRY_USER / CI_REGISTRY_PASSWORD win over the job token when both are set.
    paired = run_regauth(["--config", config_dir, "push", "--check", "unused",
                          f"{registry.hostport}/group/project"],
                         env={**job, "CI_REGISTRY_USER": "project_7_bot",
                              "CI_REGISTRY_PASSWORD": GITLAB_REGISTRY_PASSWORD})
    assert paired.returncode == 0, paired.stderr
    assert server.token_requests()[-1].query["account"] == ["project_7_bot"]

    # Not on GitLab CI, or another registry in the same job: nothing is sent.
    before = len(server.token_requests())
    not_gitlab = run_regauth(["--config", config_dir, "push", "--check", "unused",
                              f"{registry.hostport}/group/project"],
                             env={**job, "GITLAB_CI": "false"})
    assert not_gitlab.returncode == 5, not_gitlab.stderr
    other = start_registry(auth="token", token_server=server)
    elsewhere = run_regauth(["--config", config_dir, "push", "--check", "unused",
                             f"{other.hostport}/group/project"], env=job)
    assert elsewhere.returncode == 5, elsewhere.stderr  # the token server would take the token
    assert all("account" not in r.query for r in server.token_requests()[before:])
