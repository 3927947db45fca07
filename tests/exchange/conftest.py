"""Real servers on 127.0.0.1 for the exchange tests: FTP and FTPS (pyftpdlib, in a thread) and SFTP
(asyncssh's server, in a thread with its own event loop), each over a temporary folder."""

import asyncio
import datetime as dt
import ipaddress
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import asyncssh
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

USER = "tuotempo"
PASSWORD = "s3cret-Pa55"  # a test server's password; the tests check it never shows


@dataclass
class Server:
    scheme: str
    port: int
    root: Path
    commands: list = field(default_factory=list)  # (command, argument) as the FTP server received them
    drop_after: list = field(default_factory=lambda: [None])  # bytes of an upload before the connection drops
    echo_password: bool = False  # a careless server that repeats the password in its refusal

    def url(self, path: str = "/", *, password: str | None = PASSWORD, user: str = USER) -> str:
        secret = f":{quote(password, safe='')}" if password is not None else ""
        return f"{self.scheme}://{user}{secret}@127.0.0.1:{self.port}{path}"

    def drop_uploads_after(self, size: int) -> None:
        self.drop_after[0] = size


def _handlers(server: Server, tls: bool, certificate: Path | None):
    control, data = (TLS_FTPHandler, TLS_DTPHandler) if tls else (FTPHandler, DTPHandler)

    class DroppingDTP(data):
        def _drop_when_due(self):
            limit = server.drop_after[0]
            if limit is not None and self.connected and self.tot_bytes_received > limit:
                # The line goes down mid-upload: data and control connections both.
                cmd_channel = self.cmd_channel
                self.close()
                cmd_channel.close()

        def handle_read(self):
            super().handle_read()
            self._drop_when_due()

        def handle_read_event(self):  # what the event loop calls (an alias of handle_read without TLS)
            super().handle_read_event()
            self._drop_when_due()

    class RecordingFTP(control):
        dtp_handler = DroppingDTP
        auth_failed_timeout = 0.01

        def handle_auth_failed(self, msg, password):
            if server.echo_password:
                msg = f"Authentication failed with password {password}."
            return super().handle_auth_failed(msg, password)

        def pre_process_command(self, line, cmd, arg):
            server.commands.append((cmd, arg))
            return super().pre_process_command(line, cmd, arg)

    if tls:
        RecordingFTP.certfile = str(certificate)
        RecordingFTP.tls_control_required = True
        RecordingFTP.tls_data_required = True
    return RecordingFTP


def _serve_ftp(tmp_path: Path, *, tls: bool, certificate: Path | None = None):
    root = tmp_path / ("ftps-root" if tls else "ftp-root")
    root.mkdir()
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
    server = Server("ftps" if tls else "ftp", 0, root)
    handler = _handlers(server, tls, certificate)
    handler.authorizer = authorizer
    handler.banner = "test server"
    ftpd = FTPServer(("127.0.0.1", 0), handler)
    server.port = ftpd.address[1]
    thread = threading.Thread(target=ftpd.serve_forever, kwargs={"timeout": 0.05}, daemon=True)
    thread.start()
    return server, ftpd, thread


@pytest.fixture
def ftp_server(tmp_path):
    server, ftpd, thread = _serve_ftp(tmp_path, tls=False)
    yield server
    ftpd.close_all()
    thread.join(5)


@pytest.fixture
def tls_files(tmp_path):
    """A certificate authority and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)

    def make(subject, issuer, key, signer, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make("exchange test CA", "exchange test CA", ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = make(
        "127.0.0.1", "exchange test CA", key, ca_key, False, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    pem = tmp_path / "server.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return pem, ca_pem


@pytest.fixture
def ftps_server(tmp_path, tls_files, monkeypatch):
    """FTPS (AUTH TLS, protected data) whose certificate the client trusts through SSL_CERT_FILE."""
    pem, ca_pem = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_pem))
    server, ftpd, thread = _serve_ftp(tmp_path, tls=True, certificate=pem)
    yield server
    ftpd.close_all()
    thread.join(5)


class _SshServer(asyncssh.SSHServer):
    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == USER and password == PASSWORD


class SftpServer(Server):
    host_key: asyncssh.SSHKey = None
    known_hosts: Path = None
    client_key: Path = None

    def known_hosts_line(self, key: asyncssh.SSHKey | None = None) -> str:
        key = key or self.host_key
        return f"[127.0.0.1]:{self.port} {key.export_public_key('openssh').decode().strip()}\n"


@pytest.fixture
def sftp_server(tmp_path, settings):
    """asyncssh's SFTP server over a folder (its root is the folder), password or key login; the
    host key is in a known_hosts file that HIS_EXCHANGE_KNOWN_HOSTS names."""
    root = tmp_path / "sftp-root"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key_file = tmp_path / "id_ed25519"
    client_key_file.write_bytes(client_key.export_private_key("openssh"))
    client_key_file.chmod(0o600)
    server = SftpServer("sftp", 0, root)
    server.host_key, server.client_key = host_key, client_key_file

    class DroppingSftp(asyncssh.SFTPServer):
        def __init__(self, chan):
            super().__init__(chan, chroot=str(root))
            self.received = 0

        def write(self, file_obj, offset, data):
            self.received += len(data)
            limit = server.drop_after[0]
            if limit is not None and self.received > limit:
                self.connection.abort()  # the line goes down mid-upload
                return None
            return super().write(file_obj, offset, data)

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    async def start():
        holder["acceptor"] = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=_SshServer,
            authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key("openssh").decode()),
            sftp_factory=DroppingSftp,
            allow_scp=False,
        )
        server.port = holder["acceptor"].sockets[0].getsockname()[1]
        ready.set()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the SFTP test server did not start"
    server.known_hosts = tmp_path / "known_hosts"
    server.known_hosts.write_text(server.known_hosts_line())
    settings.HIS_EXCHANGE_KNOWN_HOSTS = str(server.known_hosts)
    yield server

    async def stop():
        holder["acceptor"].close()
        await holder["acceptor"].wait_closed()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


# ---------------------------------------------------------------- a small hospital in two time zones


@dataclass
class Hospital:
    now: dt.datetime
    mad: object
    lpa: object
    appointments: dict  # name -> Appointment


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


@pytest.fixture
def hospital(db):
    """Two centers an hour apart (Madrid, Las Palmas); appointments inside and outside the default
    window (24 hours back, 72 ahead), each status, patients with and without each contact."""
    from django.utils import timezone

    from appointments.models import AppointmentStatus
    from demo.factories import (
        ActivityFactory,
        AppointmentFactory,
        CenterFactory,
        LocationFactory,
        PatientFactory,
        ResourceFactory,
    )

    now = _minute(timezone.now())
    mad = CenterFactory(lid="MAD", name="Hospital Madrid", time_zone="Europe/Madrid")
    lpa = CenterFactory(lid="LPA", name="Clínica Las Palmas", time_zone="Atlantic/Canary")
    d1 = ResourceFactory(
        lid="D1",
        first_name="Ana",
        second_name="Ruiz",
        location=LocationFactory(lid="MAD-CE", name="Madrid CE", center=mad),
    )
    d2 = ResourceFactory(
        lid="D2",
        first_name="Pedro",
        second_name="Déniz",
        location=LocationFactory(lid="LPA-CE", name="LPA CE", center=lpa),
    )
    activity = ActivityFactory(lid="ACT1", duration=20)
    p1 = PatientFactory(
        lid="P1",
        first_name="Lucía",
        second_name="Secreta",
        landline_phone="+34 910 000 001",
        mobile_phone="+34 600 000 001",
        email="p1@example.org",
        id_number="12345678Z",
    )
    p2 = PatientFactory(
        lid="P2",
        first_name="Marco",
        second_name="Oculto",
        mobile_phone="",
        email="p2@example.org",
        id_number="87654321X",
    )
    status = AppointmentStatus
    plan = {
        "in_2h": (d1, 2, status.APPROVED, p1),
        "in_30h": (d2, 30, status.PENDING, p2),
        "in_50h_cancelled": (d1, 50, status.CANCELLED_BY_USER, p1),
        "in_60h_cancelled_by_admin": (d2, 60, status.CANCELLED_BY_ADMIN, p2),
        "ago_10h": (d2, -10, status.APPROVED, p1),
        "ago_30h": (d1, -30, status.APPROVED, p2),  # before the window
        "in_80h": (d2, 80, status.APPROVED, p1),  # after the window
    }
    appointments = {
        name: AppointmentFactory(
            lid=f"A-{name}", resource=resource, activity=activity, patient=patient,
            start=now + dt.timedelta(hours=hours, minutes=7), status=state,
        )
        for name, (resource, hours, state, patient) in plan.items()
    }  # fmt: skip
    return Hospital(now=now, mad=mad, lpa=lpa, appointments=appointments)
