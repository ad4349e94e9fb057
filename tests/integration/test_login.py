"""login and logout end to end: the built binary against real registries and token servers."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import pytest

from helpers import auth_of, login, mode_of, read_config, write_config
from support.connect_proxy import ConnectProxy
from support.images import make_oci_layout
from support import ALICE, BOB


def test_login_basic_registry_stores_docker_format(run_regauth, htpasswd_registry, config_dir):
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Login Succeeded\n"
    assert "WARNING! Your credentials are stored unencrypted" in result.stderr
    path = os.path.join(config_dir, "config.json")
    with open(path, "rb") as f:
        content = f.read()
    expected = (
        '{\n\t"auths": {\n\t\t"%s": {\n\t\t\t"auth": "%s"\n\t\t}\n\t}\n}'
        % (htpasswd_registry.hostport, auth_of(*ALICE))
    ).encode()
    assert content == expected
    assert mode_of(path) == 0o600
    # The registry saw the ping and the authenticated check, nothing else.
    served = [(r.method, r.path, r.status) for r in htpasswd_registry.requests()]
    assert ("GET", "/v2/", 401) in served and ("GET", "/v2/", 200) in served


def test_login_wrong_password_stores_nothing(run_regauth, htpasswd_registry, config_dir):
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, "alice", "wrong")
    assert result.returncode == 5, result.stderr
    assert "unauthorized" in result.stderr
    assert result.stderr.count("regauth: error:") == 1
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


def test_login_token_registry_stores_identity_token(run_regauth, token_registry, token_server,
                                                    config_dir):
    result = login(run_regauth, config_dir, token_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    entry = read_config(config_dir)["auths"][token_registry.hostport]
    assert entry["auth"] == base64.b64encode(b"alice:").decode()
    assert entry["identitytoken"]
    assert "alicepw" not in open(os.path.join(config_dir, "config.json")).read()
    # One token request, as the Docker CLI makes it: offline token, no scope, Basic only here.
    requests = token_server.token_requests()
    assert len(requests) == 1
    query = requests[0].query
    assert query["offline_token"] == ["true"]
    assert query["account"] == ["alice"]
    assert "client_id" in query and "scope" not in query
    assert requests[0].basic_user() == "alice"


def test_relogin_reuses_identity_token_with_refresh_grant(run_regauth, token_registry,
                                                          token_server, config_dir):
    assert login(run_regauth, config_dir, token_registry.hostport, *ALICE).returncode == 0
    token_server.clear_requests()
    result = run_regauth(["--config", config_dir, "login", token_registry.hostport])
    assert result.returncode == 0, result.stderr
    assert "Authenticating with existing credentials" in result.stderr
    requests = token_server.token_requests()
    assert len(requests) == 1
    assert requests[0].method == "POST"
    assert requests[0].form["grant_type"] == ["refresh_token"]
    assert "authorization" not in requests[0].headers


def test_login_token_registry_wrong_password(run_regauth, token_registry, config_dir):
    result = login(run_regauth, config_dir, token_registry.hostport, "alice", "nope")
    assert result.returncode == 5
    assert "unauthorized" in result.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


def test_password_stdin_strips_exactly_one_line_ending(run_regauth, htpasswd_registry,
                                                       config_dir):
    ok = run_regauth(["--config", config_dir, "login", "-u", "alice", "--password-stdin",
                      htpasswd_registry.hostport], input="alicepw\r\n")
    assert ok.returncode == 0, ok.stderr
    two = run_regauth(["--config", config_dir, "login", "-u", "alice", "--password-stdin",
                       htpasswd_registry.hostport], input="alicepw\n\n")
    assert two.returncode == 5


def test_password_stdin_usage_errors(run_regauth, htpasswd_registry, config_dir):
    empty = run_regauth(["--config", config_dir, "login", "-u", "alice", "--password-stdin",
                         htpasswd_registry.hostport], input="\n")
    assert empty.returncode == 2 and "empty" in empty.stderr
    no_user = run_regauth(["--config", config_dir, "login", "--password-stdin",
                           htpasswd_registry.hostport], input="x\n")
    assert no_user.returncode == 2 and "--username" in no_user.stderr
    no_tty = run_regauth(["--config", config_dir, "login", htpasswd_registry.hostport],
                         timeout=10)
    assert no_tty.returncode == 2 and "terminal" in no_tty.stderr
    assert htpasswd_registry.requests() == []


def test_password_flag_warns(run_regauth, htpasswd_registry, config_dir):
    result = run_regauth(["--config", config_dir, "login", "-u", "alice", "-p", "alicepw",
                          htpasswd_registry.hostport])
    assert result.returncode == 0
    assert "WARNING! Using --password via the CLI is insecure" in result.stderr


def test_logout_removes_every_spelling_and_reports(run_regauth, htpasswd_registry, config_dir):
    host = htpasswd_registry.hostport
    write_config(config_dir, {
        "auths": {
            host: {"auth": auth_of(*ALICE)},
            f"http://{host}/v1/": {"auth": auth_of(*ALICE)},
            "other.example": {"auth": auth_of("x", "y")},
        },
        "psFormat": "table {{.ID}}",
    })
    result = run_regauth(["--config", config_dir, "logout", host])
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Removing login credentials for {host}\n"
    config = read_config(config_dir)
    assert list(config["auths"]) == ["other.example"]
    assert config["psFormat"] == "table {{.ID}}"


def test_logout_when_not_logged_in_touches_nothing(run_regauth, config_dir):
    result = run_regauth(["--config", config_dir, "logout", "registry.example:5000"])
    assert result.returncode == 0
    assert result.stdout == "Not logged in to registry.example:5000\n"
    assert os.listdir(config_dir) == []


def test_logout_all_and_ls(run_regauth, config_dir):
    write_config(config_dir, {"auths": {
        "a.example": {"auth": auth_of("ann", "pw1")},
        "b.example:5000": {"auth": auth_of("ben", "pw2")},
    }})
    listed = run_regauth(["--config", config_dir, "ls", "--format", "json"])
    assert listed.returncode == 0
    entries = json.loads(listed.stdout)
    assert {(e["registry"], e["username"]) for e in entries} == {
        ("a.example", "ann"), ("b.example:5000", "ben")}
    assert "pw1" not in listed.stdout and "pw2" not in listed.stdout
    result = run_regauth(["--config", config_dir, "logout", "--all"])
    assert result.returncode == 0, result.stderr
    assert "a.example" in result.stdout and "b.example:5000" in result.stdout
    assert read_config(config_dir)["auths"] == {}


def test_login_json_format(run_regauth, htpasswd_registry, config_dir):
    result = run_regauth(["--config", config_dir, "login", "-u", "bob", "--password-stdin",
                          "--format", "json", htpasswd_registry.hostport], input="bobpw")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["registry"] == htpasswd_registry.hostport and doc["username"] == "bob"
    assert "bobpw" not in result.stdout


def test_debug_redacts_credentials(run_regauth, token_registry, config_dir):
    result = run_regauth(["--config", config_dir, "--debug", "login", "-u", "alice",
                          "--password-stdin", token_registry.hostport], input="alicepw")
    assert result.returncode == 0, result.stderr
    assert "Authorization: Basic [redacted]" in result.stderr
    assert "Authorization: Bearer [redacted]" in result.stderr
    assert "alicepw" not in result.stderr
    assert auth_of(*ALICE) not in result.stderr
    token = read_config(config_dir)["auths"][token_registry.hostport]["identitytoken"]
    assert token not in result.stderr and token not in result.stdout


def test_tls_registry_with_certs_dir_and_resolve(run_regauth, tls_htpasswd_registry, test_ca,
                                                 config_dir, tmp_path):
    port = tls_htpasswd_registry.port
    name = f"registry.test:{port}"
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [name])
    args = ["--config", config_dir, "--resolve", f"registry.test:{port}:127.0.0.1"]
    untrusted = login(run_regauth, config_dir, name, *ALICE, *args[2:])
    assert untrusted.returncode == 7, untrusted.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
    trusted = login(run_regauth, config_dir, name, *ALICE, *args[2:], "--certs-dir", certs)
    assert trusted.returncode == 0, trusted.stderr
    assert name in read_config(config_dir)["auths"]


def test_plain_http_refused_for_non_loopback_names(run_regauth, htpasswd_registry, config_dir):
    port = htpasswd_registry.port
    name = f"registry.test:{port}"
    resolve = ["--resolve", f"registry.test:{port}:127.0.0.1"]
    refused = login(run_regauth, config_dir, name, *ALICE, *resolve)
    assert refused.returncode == 7, refused.stderr
    allowed = login(run_regauth, config_dir, name, *ALICE, *resolve, "--insecure-registry", name)
    assert allowed.returncode == 0, allowed.stderr
    assert htpasswd_registry.requests()[-1].status == 200


def test_malformed_config_is_an_error_and_never_written(run_regauth, htpasswd_registry,
                                                        config_dir):
    path = write_config(config_dir, '{\n\t"auths": {\n\t\t"x": \n}')
    before = open(path, "rb").read()
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 3
    assert path in result.stderr and "line 4" in result.stderr
    assert open(path, "rb").read() == before


def test_loopback_plain_http_registry_gets_no_tls_attempt(run_regauth, htpasswd_registry,
                                                          config_dir):
    # A loopback port speaks one protocol and the probe carries no credential: regauth asks
    # over plain HTTP first, where the Docker CLI would fail a TLS handshake first.
    result = run_regauth(["--config", config_dir, "--debug", "login", "-u", "alice",
                          "--password-stdin", htpasswd_registry.hostport], input="alicepw")
    assert result.returncode == 0, result.stderr
    assert "> GET /v2/ HTTP/1.1" in result.stderr
    assert "TLS" not in result.stderr and "SSL" not in result.stderr


def test_loopback_tls_registry_is_found_after_the_plain_probe(run_regauth, tls_htpasswd_registry,
                                                              config_dir):
    # Go's TLS server answers the plain probe "400 Client sent an HTTP request to an HTTPS
    # server": regauth goes on to https (unverified on loopback without certs.d, as Docker).
    host = tls_htpasswd_registry.hostport
    result = run_regauth(["--config", config_dir, "--debug", "login", "-u", "alice",
                          "--password-stdin", host], input="alicepw")
    assert result.returncode == 0, result.stderr
    plain_answer = result.stderr.index("400 Bad Request")
    assert result.stderr.index("TLS handshake, Client hello") > plain_answer
    # HTTP/1.1 over TLS too, though the registry offers h2: h2 uploads big blobs slower
    assert "> GET /v2/ HTTP/2" not in result.stderr
    assert "> GET /v2/ HTTP/1.1" in result.stderr[plain_answer:]
    assert "Login Succeeded" in result.stdout
    assert host in read_config(config_dir)["auths"]
    assert tls_htpasswd_registry.requests()[-1].status == 200


def test_loopback_registry_with_certs_dir_is_probed_over_https_first(run_regauth,
                                                                     tls_htpasswd_registry,
                                                                     test_ca, config_dir,
                                                                     tmp_path):
    host = tls_htpasswd_registry.hostport
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [host])
    result = run_regauth(["--config", config_dir, "--debug", "--certs-dir", certs, "login", "-u",
                          "alice", "--password-stdin", host], input="alicepw")
    assert result.returncode == 0, result.stderr
    assert "400 Bad Request" not in result.stderr
    assert result.stderr.index("TLS handshake, Client hello") < result.stderr.index("> GET /v2/")


def test_mutual_tls_client_certificate_from_certs_dir(run_regauth, start_registry, test_ca,
                                                      config_dir, tmp_path):
    # A registry that demands a client certificate: Docker's certs.d holds it as
    # HOST:PORT/NAME.cert + NAME.key beside the CA's ca.crt.
    client = test_ca.issue_client("client", str(tmp_path / "client"))
    registry = start_registry(auth="htpasswd", users=dict([ALICE, BOB]),
                              tls=test_ca.issue(["registry.test"], str(tmp_path / "tls")),
                              client_ca=test_ca.ca_path, client_cert=client)
    name = f"registry.test:{registry.port}"
    resolve = ["--resolve", f"registry.test:{registry.port}:127.0.0.1"]
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [name])
    without = login(run_regauth, config_dir, name, *ALICE, *resolve, "--certs-dir", certs)
    assert without.returncode == 7, without.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))
    for path in client:
        os.link(path, os.path.join(certs, name, os.path.basename(path)))
    with_cert = login(run_regauth, config_dir, name, *ALICE, *resolve, "--certs-dir", certs)
    assert with_cert.returncode == 0, with_cert.stderr
    assert (f"the registry asks for a TLS client certificate and none is configured for {name} "
            f"(put NAME.cert and NAME.key, PEM, in {certs}/{name}/)") in without.stderr
    assert name in read_config(config_dir)["auths"]
    assert registry.requests()[-1].status == 200
    # every parallel job's connection presents it too
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[30_000, 20_000, 10_000])
    pushed = run_regauth(["--config", config_dir, "--certs-dir", certs, *resolve, "push",
                          "--jobs", "3", str(tmp_path / "oci"), f"{name}/mtls/app:1"])
    assert pushed.returncode == 0, pushed.stderr
    assert "mtls/app" in registry.manifests_on_disk()


def _hashed_ca_dir(test_ca, root) -> tuple[str, str]:
    """A directory in OpenSSL's hashed layout holding the test CA: (dir, link name)."""
    subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", test_ca.ca_path],
                                  capture_output=True, text=True, check=True).stdout.strip()
    os.makedirs(root)
    shutil.copy(test_ca.ca_path, os.path.join(root, f"{subject_hash}.0"))
    return root, f"{subject_hash}.0"


@pytest.mark.requires("openssl")
def test_system_trust_is_looked_up_in_the_hashed_directory(run_regauth, tls_htpasswd_registry,
                                                           test_ca, config_dir, tmp_path):
    # regauth reads the CA directory certificate by certificate (SSL_CERT_DIR here stands for
    # /etc/ssl/certs) instead of parsing the whole bundle at every start.
    port = tls_htpasswd_registry.port
    name = f"registry.test:{port}"
    resolve = ["--resolve", f"registry.test:{port}:127.0.0.1"]
    hashed, link = _hashed_ca_dir(test_ca, str(tmp_path / "hashed"))
    trusted = login(run_regauth, config_dir, name, *ALICE, *resolve,
                    env={"SSL_CERT_DIR": hashed})
    assert trusted.returncode == 0, trusted.stderr
    os.rename(os.path.join(hashed, link), os.path.join(hashed, "not-a-hash-link.pem"))
    os.remove(os.path.join(config_dir, "config.json"))
    untrusted = login(run_regauth, config_dir, name, *ALICE, *resolve,
                      env={"SSL_CERT_DIR": hashed})
    assert untrusted.returncode == 7, untrusted.stderr
    assert "certificate" in untrusted.stderr
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


def test_ssl_cert_file_names_a_bundle_to_trust(run_regauth, tls_htpasswd_registry, test_ca,
                                               config_dir, tmp_path):
    port = tls_htpasswd_registry.port
    name = f"registry.test:{port}"
    resolve = ["--resolve", f"registry.test:{port}:127.0.0.1"]
    untrusted = login(run_regauth, config_dir, name, *ALICE, *resolve)
    assert untrusted.returncode == 7, untrusted.stderr
    trusted = login(run_regauth, config_dir, name, *ALICE, *resolve,
                    env={"SSL_CERT_FILE": test_ca.ca_path})
    assert trusted.returncode == 0, trusted.stderr
    assert name in read_config(config_dir)["auths"]


def test_a_ca_appended_to_the_system_bundle_is_trusted(run_regauth, tls_htpasswd_registry,
                                                        test_ca, config_dir, tmp_path):
    # A Dockerfile's `cat corp.crt >> /etc/ssl/certs/ca-certificates.crt`: the bundle then holds
    # a CA the hashed directory lacks, so regauth must read the bundle after all. The system
    # bundle is replaced in a private mount namespace only.
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) for a private mount namespace")
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.isfile(bundle):
        pytest.skip(f"no system bundle at {bundle}")
    appended = str(tmp_path / "appended.pem")
    with open(bundle) as system, open(test_ca.ca_path) as ca, open(appended, "w") as out:
        out.write(system.read() + ca.read())
    port = tls_htpasswd_registry.port
    name = f"registry.test:{port}"
    args = ["--config", config_dir, "--resolve", f"registry.test:{port}:127.0.0.1", "login",
            "-u", ALICE[0], "--password-stdin", name]
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare --mount is not permitted here")
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    env = {**run_regauth.base_env}  # run_regauth's clean environment, by hand
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", appended, bundle,
                           run_regauth.binary, *args], input=ALICE[1], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert name in read_config(config_dir)["auths"]


def test_https_proxy_from_the_environment_is_used_and_sees_only_a_tunnel(
        run_regauth, tls_htpasswd_registry, test_ca, config_dir, tmp_path):
    proxy = ConnectProxy().start()
    try:
        port = tls_htpasswd_registry.port
        name = f"registry.test:{port}"
        certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [name])
        result = login(run_regauth, config_dir, name, *ALICE, "--certs-dir", certs,
                       env={"HTTPS_PROXY": proxy.url})
        assert result.returncode == 0, result.stderr
        assert proxy.tunnels and set(proxy.tunnels) == {name}
        assert proxy.refused == []  # nothing in clear text: the credentials went in the tunnel
        # NO_PROXY names it: straight there (--resolve, as there is no DNS for registry.test)
        tunnels = len(proxy.tunnels)
        direct = login(run_regauth, config_dir, name, *ALICE, "--certs-dir", certs,
                       "--resolve", f"registry.test:{port}:127.0.0.1",
                       env={"HTTPS_PROXY": proxy.url, "NO_PROXY": "registry.test"})
        assert direct.returncode == 0, direct.stderr
        assert len(proxy.tunnels) == tunnels
    finally:
        proxy.stop()


def test_loopback_registries_are_never_reached_through_a_proxy(run_regauth, token_registry,
                                                                config_dir):
    # As Go's clients (the Docker CLI) do: the proxy's loopback is not ours. A proxy that
    # cannot be reached proves it was not used.
    dead = "http://127.0.0.1:9"
    for variable in ("http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        result = login(run_regauth, config_dir, token_registry.hostport, *ALICE,
                       env={variable: dead})
        assert result.returncode == 0, (variable, result.stderr)
    port = token_registry.hostport.rsplit(":", 1)[1]
    result = login(run_regauth, config_dir, f"localhost:{port}", *ALICE, "--trust-realm",
                   "127.0.0.1", env={"http_proxy": dead, "HTTPS_PROXY": dead})
    assert result.returncode == 0, result.stderr
