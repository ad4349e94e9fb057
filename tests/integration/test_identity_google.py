"""Google application default credentials against loopback fakes of Google's token endpoint
(which verifies the service account's JWT with the key's public half) and of the metadata
server, and registries under Google's host names (--resolve, --certs-dir)."""

from __future__ import annotations

import os

import pytest

from support.google_fakes import GoogleTokenEndpoint, MetadataServer
from support.images import make_oci_layout

ACCESS_TOKEN = "ya29.c.fake-access-token-0123456789"


def no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr


@pytest.fixture
def google_endpoint():
    endpoints = []

    def start(mode="ok"):
        endpoints.append(GoogleTokenEndpoint(ACCESS_TOKEN, mode))
        return endpoints[-1]
    yield start
    for endpoint in endpoints:
        endpoint.stop()


@pytest.fixture
def metadata_server():
    servers = []

    def start(mode="ok"):
        servers.append(MetadataServer(ACCESS_TOKEN, mode))
        return servers[-1]
    yield start
    for server in servers:
        server.stop()


def google_env(tmp_path, **extra):
    """No gcloud folder, no metadata server: only what a test adds."""
    return {"CLOUDSDK_CONFIG": str(tmp_path / "no-gcloud"), **extra}


def test_service_account_key_pushes_to_artifact_registry(run_regauth, start_cloud_registry,
                                                         google_endpoint, config_dir, tmp_path):
    endpoint = google_endpoint()
    key_file = tmp_path / "key.json"
    key_file.write_text(endpoint.service_account_key())
    registry = start_cloud_registry("europe-docker.pkg.dev", auth="htpasswd",
                                    users={"oauth2accesstoken": ACCESS_TOKEN})
    env = google_env(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(key_file))
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[700])
    described = f"Google service account {endpoint.email} (GOOGLE_APPLICATION_CREDENTIALS)"

    logged_in = run_regauth(["--config", config_dir, *registry.flags, "login",
                             "europe-docker.pkg.dev"], env=env)
    assert logged_in.returncode == 0, logged_in.stderr
    assert described in logged_in.stderr and "nothing stored" in logged_in.stdout
    pushed = run_regauth(["--config", config_dir, "--debug", *registry.flags, "push", layout,
                          "europe-docker.pkg.dev/demo-project/repo/app:1"], env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert described in pushed.stderr
    assert "demo-project/repo/app" in registry.registry.repositories()
    assert len(endpoint.verified) == 2
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
    private_line = endpoint.service_account_key().split("\\n")[2]
    for result in (logged_in, pushed):
        no_secret(result, ACCESS_TOKEN, private_line, "assertion=")


def test_gcloud_user_credentials_for_gcr(run_regauth, start_cloud_registry, google_endpoint,
                                         config_dir, tmp_path):
    endpoint = google_endpoint()
    gcloud = tmp_path / "gcloud"
    gcloud.mkdir()
    (gcloud / "application_default_credentials.json").write_text(endpoint.authorized_user())
    registry = start_cloud_registry("gcr.io", auth="htpasswd",
                                    users={"oauth2accesstoken": ACCESS_TOKEN})
    check = ["--config", config_dir, *registry.flags, "push", "--check", "unused",
             "gcr.io/demo-project/app"]
    result = run_regauth(check, env={"CLOUDSDK_CONFIG": str(gcloud)})
    assert result.returncode == 0, result.stderr
    assert "Google user credentials (gcloud application default credentials)" in result.stderr
    no_secret(result, ACCESS_TOKEN, "1//refresh-x", "client-secret-x")
    # A refused refresh token: Google's own words, the source named, exit 5.
    endpoint.refresh = ("1234.apps.googleusercontent.com", "client-secret-x", "1//other")
    refused = run_regauth(check, env={"CLOUDSDK_CONFIG": str(gcloud)})
    assert refused.returncode == 5, refused.stderr
    assert "invalid_grant: Token has been expired or revoked." in refused.stderr
    assert "Google user credentials (gcloud application default credentials)" in refused.stderr
    # --no-identity: nothing asked.
    before = len(endpoint.server.requests)
    off = run_regauth(["--no-identity", *check], env={"CLOUDSDK_CONFIG": str(gcloud)})
    assert off.returncode == 5 and len(endpoint.server.requests) == before


def test_metadata_server_token_for_gcr_io(run_regauth, start_cloud_registry, metadata_server,
                                          config_dir, tmp_path):
    metadata = metadata_server()
    registry = start_cloud_registry("eu.gcr.io", auth="htpasswd",
                                    users={"oauth2accesstoken": ACCESS_TOKEN})
    result = run_regauth(["--config", config_dir, *registry.flags, "push", "--check", "unused",
                          "eu.gcr.io/demo-project/app"],
                         env=google_env(tmp_path, GCE_METADATA_HOST=metadata.host))
    assert result.returncode == 0, result.stderr
    assert "Google metadata server default service account" in result.stderr
    assert [r.headers.get("metadata-flavor") for r in metadata.server.requests] == ["Google"]
    no_secret(result, ACCESS_TOKEN)


@pytest.mark.parametrize("mode,code,words", [
    ("refused", 5, "invalid_grant: Invalid JWT Signature."),
    ("expired", 5, "already expired (expires_in 0)"),
    ("malformed", 9, "not a JSON object"),
    ("slow", 7, ""),
])
@pytest.mark.parametrize("where", ["token endpoint", "metadata server"])
def test_bad_answers_name_the_source(run_regauth, start_cloud_registry, google_endpoint,
                                     metadata_server, config_dir, tmp_path, where, mode, code,
                                     words):
    registry = start_cloud_registry("europe-docker.pkg.dev", auth="htpasswd",
                                    users={"oauth2accesstoken": ACCESS_TOKEN})
    if where == "token endpoint":
        endpoint = google_endpoint(mode)
        key_file = tmp_path / "key.json"
        key_file.write_text(endpoint.service_account_key())
        env = google_env(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(key_file))
        source = f"Google service account {endpoint.email}"
    else:
        env = google_env(tmp_path, GCE_METADATA_HOST=metadata_server(mode).host)
        source = "Google metadata server"
    result = run_regauth(["--config", config_dir, "--timeout", "2", *registry.flags, "push",
                          "--check", "unused", "europe-docker.pkg.dev/demo-project/repo/app"],
                         env=env)
    assert result.returncode == code, result.stderr
    assert source in result.stderr and where in result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    no_secret(result, ACCESS_TOKEN)


def test_a_key_the_endpoint_does_not_know_is_refused(run_regauth, start_cloud_registry,
                                                     google_endpoint, config_dir, tmp_path):
    endpoint = google_endpoint()
    impostor = GoogleTokenEndpoint(ACCESS_TOKEN)  # another key pair, same account name
    try:
        key_file = tmp_path / "key.json"
        key_file.write_text(impostor.service_account_key(token_uri=endpoint.token_uri))
    finally:
        impostor.stop()
    registry = start_cloud_registry("europe-docker.pkg.dev", auth="htpasswd",
                                    users={"oauth2accesstoken": ACCESS_TOKEN})
    result = run_regauth(["--config", config_dir, *registry.flags, "push", "--check", "unused",
                          "europe-docker.pkg.dev/demo-project/repo/app"],
                         env=google_env(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(key_file)))
    assert result.returncode == 5, result.stderr
    assert "invalid_grant: Invalid JWT: Signature verification failed" in result.stderr
    assert endpoint.verified == []


def test_configs_naming_google_helpers_keep_working(run_regauth, start_cloud_registry,
                                                    google_endpoint, config_dir, tmp_path):
    """credHelpers/credsStore naming gcloud or gcr: the helper runs when installed; when it is
    not, the built-in source serves, with a notice, instead of "helper not found"."""
    endpoint = google_endpoint()
    key_file = tmp_path / "key.json"
    key_file.write_text(endpoint.service_account_key())
    registry = start_cloud_registry("europe-docker.pkg.dev", auth="htpasswd",
                                    users={"oauth2accesstoken": ACCESS_TOKEN})
    os.makedirs(config_dir, exist_ok=True)
    config = os.path.join(config_dir, "config.json")
    with open(config, "w") as f:
        f.write('{"credHelpers": {"europe-docker.pkg.dev": "gcloud"}, "credsStore": "gcr"}')
    empty_bin = tmp_path / "empty-bin"  # neither docker-credential-gcloud nor -gcr
    empty_bin.mkdir()
    check = ["--config", config_dir, *registry.flags, "push", "--check", "unused",
             "europe-docker.pkg.dev/demo-project/repo/app"]
    env = google_env(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(key_file),
                     PATH=str(empty_bin))

    served = run_regauth(check, env=env)
    assert served.returncode == 0, served.stderr
    assert ("WARNING: docker-credential-gcloud (credHelpers) is not installed: using regauth's "
            f"built-in identity source, Google service account {endpoint.email}") in served.stderr
    assert len(endpoint.verified) == 1
    assert open(config).read().count("oauth2accesstoken") == 0

    nothing = run_regauth(check, env={**env, "GOOGLE_APPLICATION_CREDENTIALS": ""})
    assert nothing.returncode == 4, nothing.stderr
    assert "docker-credential-gcloud (credHelpers) is not installed, and this machine has no " \
           "identity" in nothing.stderr

    # Installed, the helper answers and the built-in source is not asked.
    helper_bin = tmp_path / "helper-bin"
    helper_bin.mkdir()
    stub = helper_bin / "docker-credential-gcloud"
    stub.write_text("#!/bin/sh\nread -r server\n"
                    f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"oauth2accesstoken\","
                    f"\"Secret\":\"{ACCESS_TOKEN}\"}}\\n' \"$server\"\n")
    stub.chmod(0o755)
    helped = run_regauth(check, env={**env, "PATH": f"{helper_bin}:/usr/bin:/bin"})
    assert helped.returncode == 0, helped.stderr
    assert "WARNING" not in helped.stderr and "docker-credential-gcloud" in helped.stdout
    assert len(endpoint.verified) == 1
