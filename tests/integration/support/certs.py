"""A throwaway certificate authority for TLS test servers.

`make_test_ca(dir)` creates an ECDSA P-256 CA; `TestCA.issue()` signs server
certificates for DNS names (plus IP 127.0.0.1) and `TestCA.issue_client()`
client certificates; `TestCA.certs_dir()` writes
the Docker layout `ROOT/HOST[:PORT]/ca.crt` that `certs.d` readers expect.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=2)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: str, data: bytes, mode: int = 0o644) -> str:
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class TestCA:
    """A CA key + self-signed certificate; `ca_path` is its PEM file."""

    __test__ = False  # not a pytest test class despite the name

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ca_path: str

    def _leaf(self, subject: str, usage, extensions=()) -> tuple[x509.Certificate,
                                                                ec.EllipticCurvePrivateKey]:
        """A fresh key and an end-entity certificate for it, signed by this CA, with
        extended key usage USAGE plus EXTENSIONS (non-critical)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(self.key, hashes.SHA256()), key

    @staticmethod
    def _save(cert: x509.Certificate, key, stem: str, cert_suffix: str) -> tuple[str, str]:
        os.makedirs(os.path.dirname(stem), exist_ok=True)
        cert_path = _write(stem + cert_suffix, cert.public_bytes(serialization.Encoding.PEM))
        key_path = _write(stem + ".key", _pem_key(key), 0o600)
        return cert_path, key_path

    def issue(self, names: list[str], dir: str) -> tuple[str, str]:
        """Issue a server certificate; returns (cert_path, key_path).

        Every name becomes a SAN: IP addresses as IP SANs, the rest as DNS
        names.  127.0.0.1 is always included.
        """
        sans: list[x509.GeneralName] = []
        ips = {ipaddress.ip_address("127.0.0.1")}
        for n in names:
            try:
                ips.add(ipaddress.ip_address(n))
            except ValueError:
                sans.append(x509.DNSName(n))
        sans += [x509.IPAddress(ip) for ip in sorted(ips)]
        cert, key = self._leaf(names[0] if names else "127.0.0.1",
                               x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                               [x509.SubjectAlternativeName(sans)])
        stem = os.path.join(dir, (names[0] if names else "server").replace(":", "_"))
        return self._save(cert, key, stem, ".crt")

    def issue_client(self, name: str, dir: str) -> tuple[str, str]:
        """Issue a TLS client certificate (clientAuth) for NAME; returns
        (cert_path, key_path), named NAME.cert and NAME.key as Docker's certs.d wants."""
        cert, key = self._leaf(name, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
        return self._save(cert, key, os.path.join(dir, name), ".cert")

    def certs_dir(self, root: str, hostports: list[str]) -> str:
        """Write ROOT/HOST[:PORT]/ca.crt for each entry (Docker certs.d layout)."""
        pem = self.cert.public_bytes(serialization.Encoding.PEM)
        for hp in hostports:
            d = os.path.join(root, hp)
            os.makedirs(d, exist_ok=True)
            _write(os.path.join(d, "ca.crt"), pem)
        return root


def make_test_ca(dir: str) -> TestCA:
    """Create a CA in DIR (ca.crt, ca.key) and return it."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = _name("regauth test CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    os.makedirs(dir, exist_ok=True)
    ca_path = _write(os.path.join(dir, "ca.crt"), cert.public_bytes(serialization.Encoding.PEM))
    _write(os.path.join(dir, "ca.key"), _pem_key(key), 0o600)
    return TestCA(key=key, cert=cert, ca_path=ca_path)
