"""Sending files over real FTP, FTPS and SFTP servers on 127.0.0.1: atomic replacement, a line that
drops mid-upload, refused logins, SFTP host keys, and secrets that never show."""

import io

import pytest
from django.utils import timezone

from exchange.models import ExchangeRun, RunOutcome
from exchange.transports import ExchangeError, open_folder, parse_url
from tests.exchange.conftest import PASSWORD, USER
from tests.exchange.helpers import only_file, read_csv, run, run_process

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["ftp", "ftps", "sftp"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def fixed_now(monkeypatch, hospital):
    """The clock stands still at the hospital's `now`, so two exports write the same file name."""
    monkeypatch.setattr(timezone, "now", lambda: hospital.now)
    return hospital.now


def visible(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_file() and not p.name.startswith("."))


def test_it_writes_under_a_temporary_name_then_renames(ftp_server, hospital):
    status, out, error = run("export_appointments", "--to", ftp_server.url("/"))

    assert (status, error) == (0, "")
    final = only_file(ftp_server.root, "appointments_*.csv")
    stored = [arg for cmd, arg in ftp_server.commands if cmd == "STOR"]
    renamed = [(cmd, arg) for cmd, arg in ftp_server.commands if cmd in ("RNFR", "RNTO")]
    assert len(stored) == 1 and stored[0].startswith(f".{final.name}.") and stored[0].endswith(".part")
    assert renamed == [("RNFR", stored[0]), ("RNTO", final.name)]
    assert list(ftp_server.root.iterdir()) == [final]
    assert len(read_csv(final)) == 5


def test_a_second_export_replaces_the_file_whole(server, hospital, fixed_now):
    from appointments.services import cancel_appointment

    assert run("export_appointments", "--to", server.url("/"))[0] == 0
    first = only_file(server.root, "appointments_*.csv")
    assert {r["APP_LID"]: r["STATUS"] for r in read_csv(first)}["A-in_2h"] == "APPROVED"
    cancel_appointment(appointment=hospital.appointments["in_2h"])

    assert run("export_appointments", "--to", server.url("/"))[0] == 0

    again = only_file(server.root, "appointments_*.csv")
    assert again.name == first.name
    assert {r["APP_LID"]: r["STATUS"] for r in read_csv(again)}["A-in_2h"] == "CANCELLED by USER"
    assert [p.name for p in server.root.iterdir()] == [again.name]  # no temporary file left


@pytest.mark.parametrize("kind", ["ftp", "sftp"])
def test_a_line_dropped_mid_upload_leaves_the_previous_file_whole(request, kind, hospital, fixed_now):
    from appointments.services import cancel_appointment

    server = request.getfixturevalue(f"{kind}_server")
    assert run("export_appointments", "--to", server.url("/"))[0] == 0
    final = only_file(server.root, "appointments_*.csv")
    before = final.read_bytes()
    cancel_appointment(appointment=hospital.appointments["in_2h"])
    server.drop_uploads_after(100)

    status, _, error = run("export_appointments", "--to", server.url("/"))

    assert status == 1
    assert error.startswith(f"Writing {final.name} to {kind}://{USER}@127.0.0.1:{server.port}/ failed: ")
    assert error.endswith("Nothing was written under that name.")
    assert "\n" not in error
    assert visible(server.root) == [final.name]
    assert final.read_bytes() == before
    last = ExchangeRun.objects.latest("pk")
    assert (last.command, last.outcome, last.message) == ("export_appointments", RunOutcome.FAILED, error)


def test_wrong_credentials_are_refused_with_a_clear_message(server, hospital):
    status, _, error = run("export_appointments", "--to", server.url("/", password="not-the-password"))

    assert status == 1
    assert f"refused the login of user '{USER}'" in error
    assert "not-the-password" not in error
    assert visible(server.root) == []
    last = ExchangeRun.objects.get()
    assert last.outcome == RunOutcome.FAILED
    assert last.destination == f"{server.scheme}://{USER}@127.0.0.1:{server.port}/"


@pytest.mark.django_db(transaction=True)
def test_a_refused_login_ends_the_process_with_status_1_and_one_line(ftp_server):
    done = run_process("export_catalog", "--to", ftp_server.url("/out", password="wrong-one"))

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"CommandError: FTP server ftp://{USER}@127.0.0.1:{ftp_server.port}/out refused")
    assert "wrong-one" not in done.stderr
    assert ExchangeRun.objects.get().outcome == RunOutcome.FAILED


def test_a_password_the_server_repeats_is_never_shown(ftp_server, hospital):
    ftp_server.echo_password = True

    status, _, error = run("export_appointments", "--to", ftp_server.url("/", password="p@ss:w/rd"))

    assert status == 1
    assert "Authentication failed with password ***" in error
    assert "p@ss" not in error
    run_row = ExchangeRun.objects.get()
    assert "p@ss" not in f"{run_row.destination} {run_row.message} {run_row.options}"


def test_the_password_may_come_from_the_environment(server, hospital, settings):
    settings.HIS_EXCHANGE_PASSWORD = PASSWORD

    status, out, _ = run("export_appointments", "--to", server.url("/", password=None))

    assert status == 0
    assert PASSWORD not in out
    assert len(read_csv(only_file(server.root, "appointments_*.csv"))) == 5
    assert PASSWORD not in ExchangeRun.objects.get().destination


def test_sftp_logs_in_with_a_key_file(sftp_server, hospital, settings):
    settings.HIS_EXCHANGE_KEY_FILE = str(sftp_server.client_key)

    status, _, error = run("export_appointments", "--to", sftp_server.url("/", password=None))

    assert (status, error) == (0, "")
    assert len(read_csv(only_file(sftp_server.root, "appointments_*.csv"))) == 5


def test_sftp_refuses_an_unknown_host_key(sftp_server, hospital):
    sftp_server.known_hosts.write_text("")

    status, _, error = run("export_appointments", "--to", sftp_server.url("/"))

    assert status == 1
    assert error.startswith(f"The SFTP server [127.0.0.1]:{sftp_server.port} offered host key ssh-ed25519 SHA256:")
    assert f"is not in {sftp_server.known_hosts}: refused." in error
    assert visible(sftp_server.root) == []
    assert sftp_server.known_hosts.read_text() == ""  # never added silently


def test_sftp_refuses_a_changed_host_key(sftp_server, hospital):
    import asyncssh

    impostor = asyncssh.generate_private_key("ssh-ed25519")
    sftp_server.known_hosts.write_text(sftp_server.known_hosts_line(impostor))

    status, _, error = run("export_appointments", "--to", sftp_server.url("/"))

    assert status == 1
    assert f"holds ssh-ed25519 {impostor.get_fingerprint()} for it: refused." in error
    assert visible(sftp_server.root) == []


def test_sftp_refuses_a_missing_known_hosts_file(sftp_server, hospital, settings, tmp_path):
    settings.HIS_EXCHANGE_KNOWN_HOSTS = str(tmp_path / "nowhere" / "known_hosts")

    status, _, error = run("export_appointments", "--to", sftp_server.url("/"))

    assert status == 1
    assert "refused" in error and "nowhere/known_hosts" in error


def test_ftps_refuses_a_certificate_it_cannot_trust(ftps_server, hospital, monkeypatch, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))

    status, _, error = run("export_appointments", "--to", ftps_server.url("/"))

    assert status == 1
    assert error.startswith(f"TLS with ftps://{USER}@127.0.0.1:{ftps_server.port}/ failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in error
    assert visible(ftps_server.root) == []


def test_a_missing_folder_is_named(server, hospital):
    status, _, error = run("export_appointments", "--to", server.url("/no/such/folder"))

    assert status == 1
    assert error.startswith(f"The folder {server.scheme}://{USER}@127.0.0.1:{server.port}/no/such/folder does not")


def test_a_missing_local_folder_is_named(tmp_path, hospital):
    status, _, error = run("export_appointments", "--to", f"file://{tmp_path}/absent")

    assert (status, error) == (1, f"The folder file://{tmp_path}/absent does not exist.")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.org/x", "Unsupported URL scheme 'http': use file:///dir, ftp://"),
        ("ftp://u:secret@host:99999/x", "The port in the ftp:// URL is not a number from 1 to 65535"),
        ("ftp://u:se@cret:x/y@host/x", "The port in the ftp:// URL is not a number from 1 to 65535"),
        ("sftp://host/x", "The sftp:// URL names no user: write sftp://user@host/dir."),
        ("file://server/share", "A file:// URL names a local folder (file:///dir), not a host."),
        ("ftp:///x", "The ftp:// URL names no host."),
    ],
)
def test_an_unusable_url_is_refused_before_anything_is_done(url, message):
    status, _, error = run("export_catalog", "--to", url)

    assert status == 1
    assert error.startswith(message)
    assert "secret" not in error and "cret" not in error
    assert ExchangeRun.objects.get().destination == "(unusable URL)"


def test_files_are_listed_read_and_moved_on_every_transport(server):
    location = parse_url(server.url("/"))
    (server.root / "a.csv").write_bytes(b"one")
    (server.root / "sub").mkdir()

    with open_folder(location) as folder:
        assert folder.files() == ["a.csv"]
        buffer = io.BytesIO()
        folder.read("a.csv", buffer)
        target = folder.free_name("a.csv", "done")
        folder.write(f"{target}.report.txt", io.BytesIO(b"report"), "done")
        folder.move("a.csv", "done", target)
        (server.root / "a.csv").write_bytes(b"two")
        second = folder.free_name("a.csv", "done")
        folder.move("a.csv", "done", second)

    assert buffer.getvalue() == b"one"
    assert (target, second) == ("a.csv", "a.2.csv")
    assert sorted(p.name for p in (server.root / "done").iterdir()) == ["a.2.csv", "a.csv", "a.csv.report.txt"]
    assert (server.root / "done" / "a.csv").read_bytes() == b"one"


def test_a_transfer_error_is_one_line_without_the_password(ftp_server):
    location = parse_url(ftp_server.url("/", password="zz-secret"))

    with pytest.raises(ExchangeError) as caught:
        open_folder(location).__enter__()

    assert "zz-secret" not in str(caught.value)
    assert "zz-secret" not in repr(location)
