"""TLS files that are not regular files: a certs.d CA, client certificate or key, or the bundle
SSL_CERT_FILE names, that is a FIFO is refused at once with one line (exit 3), never waited on.
Each run is bounded by run_regauth's timeout (30 s), which fails the test when it expires."""

from __future__ import annotations

import os

from helpers import login
from support import ALICE

def _refused(result, path):
    assert result.returncode == 3, result.stderr
    assert f"{path}: a FIFO, not a regular file" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def _name_and_flags(registry):
    port = registry.port
    name = f"registry.test:{port}"
    return name, ["--resolve", f"registry.test:{port}:127.0.0.1"]


def test_certs_d_ca_that_is_a_fifo_is_refused(run_regauth, tls_htpasswd_registry, config_dir,
                                              tmp_path):
    name, flags = _name_and_flags(tls_htpasswd_registry)
    certs = tmp_path / "certs.d"
    (certs / name).mkdir(parents=True)
    fifo = certs / name / "ca.crt"
    os.mkfifo(fifo)
    result = login(run_regauth, config_dir, name, *ALICE, *flags, "--certs-dir", str(certs))
    _refused(result, fifo)
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


def test_certs_d_client_key_that_is_a_fifo_is_refused(run_regauth, tls_htpasswd_registry,
                                                      test_ca, config_dir, tmp_path):
    name, flags = _name_and_flags(tls_htpasswd_registry)
    certs = test_ca.certs_dir(str(tmp_path / "certs.d"), [name])
    with open(os.path.join(certs, name, "client.cert"), "w") as cert:
        cert.write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    fifo = os.path.join(certs, name, "client.key")
    os.mkfifo(fifo)
    result = login(run_regauth, config_dir, name, *ALICE, *flags, "--certs-dir", certs)
    _refused(result, fifo)


def test_ssl_cert_file_that_is_a_fifo_is_refused(run_regauth, tls_htpasswd_registry, config_dir,
                                                 tmp_path):
    name, flags = _name_and_flags(tls_htpasswd_registry)
    fifo = tmp_path / "bundle.pem"
    os.mkfifo(fifo)
    result = login(run_regauth, config_dir, name, *ALICE, *flags,
                   env={"SSL_CERT_FILE": str(fifo)})
    _refused(result, fifo)


def test_ssl_cert_file_is_honoured(run_regauth, tls_htpasswd_registry, test_ca, config_dir):
    # The same bundle as a regular file: the registry's certificate is trusted through it.
    name, flags = _name_and_flags(tls_htpasswd_registry)
    result = login(run_regauth, config_dir, name, *ALICE, *flags,
                   env={"SSL_CERT_FILE": test_ca.ca_path})
    assert result.returncode == 0, result.stderr
