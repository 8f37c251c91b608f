"""The development CA for mutual TLS between Atrium and the regions' machine ports.

One CA and, at fixed paths under `.run/pki/` (a real CA replaces them in production):
- towards the regions: a server certificate per region (named for its machine URL's host) and
  one client certificate for Atrium;
- towards Atrium's own machine port (the directory API): a server certificate for the host of
  ATRIUM_MACHINE_URL and one client certificate per region.
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

    @property
    def machine_cert(self) -> Path:
        return self.root / "atrium-machine.pem"

    @property
    def machine_key(self) -> Path:
        return self.root / "atrium-machine.key"

    def region_client_cert(self, region_code: str) -> Path:
        return self.root / f"region-{region_code}-client.pem"

    def region_client_key(self, region_code: str) -> Path:
        return self.root / f"region-{region_code}-client.key"


def pki_ensure(
    *, paths: PkiPaths, regions: list[tuple[str, str]], machine_url: str | None = None
) -> list[Path]:
    """Create what is missing: the CA, Atrium's client certificate, for each (region code,
    machine URL) a server certificate and the region's client certificate, and, when
    `machine_url` (ATRIUM_MACHINE_URL) is given, the server certificate of Atrium's machine port.
    Existing files are kept. Returns the certificate files written (and the CA key)."""
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
        # A new CA invalidates every certificate it did not sign (region-*.pem covers the
        # regions' server and client certificates).
        stale = list(paths.root.glob("region-*.pem")) + [paths.client_cert, paths.machine_cert]
        for path in stale:
            path.unlink(missing_ok=True)
    ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    client_usage = ExtendedKeyUsageOID.CLIENT_AUTH
    if not paths.client_cert.exists():
        _issue(ca_cert, ca_key, "atrium", [], client_usage, paths.client_cert, paths.client_key)
        written.append(paths.client_cert)
    if machine_url is not None and not paths.machine_cert.exists():
        _issue(
            ca_cert, ca_key, "atrium-machine", _server_names(machine_url), ExtendedKeyUsageOID.SERVER_AUTH,
            paths.machine_cert, paths.machine_key,
        )  # fmt: skip
        written.append(paths.machine_cert)
    for code, region_machine_url in regions:
        if not paths.server_cert(code).exists():
            _issue(
                ca_cert, ca_key, f"region-{code}", _server_names(region_machine_url),
                ExtendedKeyUsageOID.SERVER_AUTH, paths.server_cert(code), paths.server_key(code),
            )  # fmt: skip
            written.append(paths.server_cert(code))
        if not paths.region_client_cert(code).exists():
            # The subject names the region, so Atrium's machine port can log who called.
            _issue(
                ca_cert, ca_key, f"region-{code}-client", [], client_usage,
                paths.region_client_cert(code), paths.region_client_key(code),
            )  # fmt: skip
            written.append(paths.region_client_cert(code))
    return written


def _server_names(url: str) -> list[str]:
    host = urlparse(url).hostname or "127.0.0.1"
    return sorted({host, "127.0.0.1", "localhost"})


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
