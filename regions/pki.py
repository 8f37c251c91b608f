"""The development CA for mutual TLS between Atrium and the regions' machine ports.

One CA, one server certificate per region (named for its machine URL's host) and one client
certificate for Atrium, at fixed paths under `.run/pki/` (a real CA replaces them in production).
"""

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=825)


@dataclass(frozen=True)
class PkiPaths:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def client_cert(self) -> Path:
        return self.root / "atrium-client.pem"

    @property
    def client_key(self) -> Path:
        return self.root / "atrium-client.key"

    def server_cert(self, region_code: str) -> Path:
        return self.root / f"region-{region_code}.pem"

    def server_key(self, region_code: str) -> Path:
        return self.root / f"region-{region_code}.key"


def pki_ensure(*, paths: PkiPaths, regions: list[tuple[str, str]]) -> list[Path]:
    """Create what is missing: the CA, Atrium's client certificate, and a server certificate
    for each (region code, machine URL). Existing files are kept. Returns the files written."""
    written: list[Path] = []
    # The CA key and every private key live here: the folder is the owner's alone.
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.root.chmod(0o700)
    if not paths.ca_cert.exists():
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Atrium development CA")])
        ca_cert = (
            _builder(name, name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(paths.ca_key, ca_key)
        _write_cert(paths.ca_cert, ca_cert)
        written += [paths.ca_cert, paths.ca_key]
        # A new CA invalidates every certificate it did not sign.
        for stale in list(paths.root.glob("region-*.pem")) + [paths.client_cert]:
            stale.unlink(missing_ok=True)
    ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    if not paths.client_cert.exists():
        client_usage = ExtendedKeyUsageOID.CLIENT_AUTH
        _issue(ca_cert, ca_key, "atrium", [], client_usage, paths.client_cert, paths.client_key)
        written.append(paths.client_cert)
    for code, machine_url in regions:
        if not paths.server_cert(code).exists():
            host = urlparse(machine_url).hostname or "127.0.0.1"
            names = sorted({host, "127.0.0.1", "localhost"})
            _issue(
                ca_cert, ca_key, f"region-{code}", names, ExtendedKeyUsageOID.SERVER_AUTH,
                paths.server_cert(code), paths.server_key(code),
            )  # fmt: skip
            written.append(paths.server_cert(code))
    return written


def _issue(ca_cert, ca_key, common_name, names, usage, cert_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        _builder(subject, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
    _write_key(key_path, key)
    _write_cert(cert_path, builder.sign(ca_key, hashes.SHA256()))


def _builder(subject, issuer, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_key(path: Path, key) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)  # O_CREAT's mode does not apply to a file replaced in place
        fh.write(pem)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
