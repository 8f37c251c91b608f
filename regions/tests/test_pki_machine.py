"""The dev CA also issues what Atrium's own machine port needs: its server certificate (for the
host of ATRIUM_MACHINE_URL) and one client certificate per region; existing files are kept, a new
CA re-issues them; `pki_init` writes them."""

import ipaddress
import ssl
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command

from conftest import make_region
from regions.pki import PkiPaths, pki_ensure

REGIONS = [("us", "https://127.0.0.1:9101"), ("eu", "https://127.0.0.1:9102")]


def cert(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def usages(certificate: x509.Certificate) -> list:
    return list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def san(certificate: x509.Certificate) -> set[str]:
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in names}


def test_it_issues_the_machine_port_server_certificate_for_its_host(tmp_path):
    paths = PkiPaths(tmp_path / "pki")
    written = pki_ensure(paths=paths, regions=REGIONS, machine_url="https://atrium-machine.internal:9000")
    assert paths.machine_cert in written
    machine = cert(paths.machine_cert)
    assert usages(machine) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert "atrium-machine.internal" in san(machine)
    assert machine.issuer == cert(paths.ca_cert).subject
    assert stat.S_IMODE(paths.machine_key.stat().st_mode) == 0o600


def test_each_region_gets_its_own_client_certificate(tmp_path):
    paths = PkiPaths(tmp_path / "pki")
    pki_ensure(paths=paths, regions=REGIONS, machine_url="https://127.0.0.1:9000")
    for code, _ in REGIONS:
        client = cert(paths.region_client_cert(code))
        assert usages(client) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"region-{code}-client"
        assert stat.S_IMODE(paths.region_client_key(code).stat().st_mode) == 0o600
        # the pair loads as a TLS client identity trusted by the CA
        context = ssl.create_default_context(cafile=str(paths.ca_cert))
        context.load_cert_chain(str(paths.region_client_cert(code)), str(paths.region_client_key(code)))
    assert (
        cert(paths.region_client_cert("us")).public_key() != cert(paths.region_client_cert("eu")).public_key()
    )


def test_existing_files_are_kept_and_a_new_ca_reissues_them(tmp_path):
    paths = PkiPaths(tmp_path / "pki")
    pki_ensure(paths=paths, regions=REGIONS, machine_url="https://127.0.0.1:9000")
    before = {p: p.read_bytes() for p in (paths.machine_cert, paths.region_client_cert("eu"))}
    assert pki_ensure(paths=paths, regions=REGIONS, machine_url="https://127.0.0.1:9000") == []
    assert all(p.read_bytes() == content for p, content in before.items())
    # when the CA is replaced
    paths.ca_cert.unlink()
    written = pki_ensure(paths=paths, regions=REGIONS, machine_url="https://127.0.0.1:9000")
    assert paths.machine_cert in written
    assert paths.region_client_cert("eu") in written
    new_ca = cert(paths.ca_cert)
    for path in (paths.machine_cert, paths.region_client_cert("eu"), paths.region_client_cert("us")):
        assert cert(path).issuer == new_ca.subject
        cert(path).verify_directly_issued_by(new_ca)  # raises unless the new CA signed it


def test_without_a_machine_url_no_machine_certificate_is_made(tmp_path):
    paths = PkiPaths(tmp_path / "pki")
    pki_ensure(paths=paths, regions=REGIONS)
    assert not paths.machine_cert.exists()
    assert paths.region_client_cert("eu").exists()


@pytest.mark.django_db
def test_pki_init_writes_the_machine_and_region_client_certificates(tmp_path, settings):
    settings.ATRIUM_PKI_DIR = tmp_path / "pki"
    settings.ATRIUM_MACHINE_URL = "https://127.0.0.1:9000"
    make_region("eu")
    call_command("pki_init")
    paths = PkiPaths(settings.ATRIUM_PKI_DIR)
    names = cert(paths.machine_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert paths.region_client_cert("eu").exists()
    assert paths.server_cert("eu").exists()
