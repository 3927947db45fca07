"""Folders reached by URL: `file:///dir`, `ftp://user:pass@host:port/dir`, `ftps://...` (explicit
TLS) and `sftp://user@host:port/dir`, over the standard library's ftplib and paramiko.

Every file is written under a hidden temporary name in the same folder and then renamed, so a reader
never sees half a file under its final name, and a transfer that breaks leaves nothing under it.
Secrets (the URL's password, HIS_EXCHANGE_PASSWORD) never appear in a message: each error is one
line naming what failed, where (the URL without its password) and why.
"""

import contextlib
import ftplib
import os
import secrets
import shutil
import ssl
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

import paramiko
from django.conf import settings

SCHEMES = ("file", "ftp", "ftps", "sftp")
DEFAULT_PORTS = {"ftp": 21, "ftps": 21, "sftp": 22}
TIMEOUT = 60  # seconds without an answer before a connection counts as lost
BLOCK = 64 * 1024

MSG_BAD_SCHEME = "Unsupported URL scheme {scheme!r}: use file:///dir, ftp://, ftps:// or sftp://user@host/dir."
MSG_BAD_PORT = (
    "The port in the {scheme}:// URL is not a number from 1 to 65535 (a password holding @, : or / must be "
    "percent-encoded, or given in HIS_EXCHANGE_PASSWORD)."
)
MSG_NO_HOST = "The {scheme}:// URL names no host."
MSG_FILE_HOST = "A file:// URL names a local folder (file:///dir), not a host."
MSG_SFTP_USER = "The sftp:// URL names no user: write sftp://user@host/dir."
MSG_NO_FOLDER = "The folder {where} does not exist."
MSG_CONNECT = "Cannot connect to {where}: {reason}."
MSG_LOGIN = "{where} refused the login of user {user!r}: {reason}."
MSG_HOST_UNKNOWN = (
    "The SFTP server {host} offered host key {key} that is not in {known}: refused. Check the fingerprint with "
    "the server's administrator, then add the key to that file (ssh-keyscan{port} {hostname})."
)
MSG_HOST_CHANGED = (
    "The SFTP server {host} offered host key {key}, but {known} holds {expected} for it: refused. The server "
    "was reinstalled or someone is intercepting the connection; check with its administrator."
)
MSG_KNOWN_HOSTS = "Cannot read the known hosts file {known}: {reason}."
MSG_TLS = "TLS with {where} failed: {reason}."
MSG_FAILED = "{action} {where} failed: {reason}."
MSG_UPLOAD = "Writing {name} to {where} failed: {reason}. Nothing was written under that name."


class ExchangeError(Exception):
    """A transfer that failed, with a one-line message that holds no secret."""


@dataclass(frozen=True)
class Location:
    """A parsed exchange URL. `where` is what messages and the exchange log show."""

    scheme: str
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = field(default="", repr=False)
    path: str = ""

    @property
    def where(self) -> str:
        if self.scheme == "file":
            return f"file://{quote(self.path)}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        return f"{self.scheme}://{user}{host}:{self.port}{quote(self.path)}"

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, quote(self.password, safe="")) if s)


def parse_url(url: str) -> Location:
    """The location a URL names, its password taken from the URL or else from HIS_EXCHANGE_PASSWORD.
    A URL that cannot be used is refused without repeating it: a password in it may be what broke it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ExchangeError(MSG_BAD_PORT.format(scheme=urlsplit(url.strip()).scheme.lower())) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ExchangeError(MSG_BAD_SCHEME.format(scheme=scheme[:10]))
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ExchangeError(MSG_FILE_HOST)
        return Location("file", path=unquote(parts.path) or "/")
    if not parts.hostname:
        raise ExchangeError(MSG_NO_HOST.format(scheme=scheme))
    user = unquote(parts.username or "")
    if scheme == "sftp" and not user:
        raise ExchangeError(MSG_SFTP_USER)
    password = unquote(parts.password) if parts.password is not None else settings.HIS_EXCHANGE_PASSWORD
    return Location(scheme, parts.hostname, port or DEFAULT_PORTS[scheme], user, password, unquote(parts.path))


@contextlib.contextmanager
def open_folder(location: Location) -> Iterator["Folder"]:
    """The folder, connected; closed (and the connection ended) on leaving."""
    kinds = {"file": LocalFolder, "ftp": FtpFolder, "ftps": FtpFolder, "sftp": SftpFolder}
    folder = kinds[location.scheme](location)
    try:
        yield folder
    finally:
        folder.close()


class Folder:
    """One folder of a destination. Names are plain file names; `subfolder` is one level below."""

    errors: tuple[type[BaseException], ...] = (OSError, EOFError)

    def __init__(self, location: Location):
        self.location = location

    # ------------------------------------------------------------ what the commands use

    def files(self, subfolder: str = "") -> list[str]:
        """The names of the regular files in the folder (or a subfolder), sorted."""
        with self._failing("Listing", subfolder):
            return sorted(self._names(subfolder))

    def read(self, name: str, into: BinaryIO) -> None:
        with self._failing(f"Reading {name} from", ""):
            self._get(name, into)

    def write(self, name: str, source: BinaryIO, subfolder: str = "") -> None:
        """Writes the file whole under `name`, replacing one already there, or not at all."""
        temporary = self._join(subfolder, f".{name}.{secrets.token_hex(4)}.part")
        final = self._join(subfolder, name)
        try:
            self._put(temporary, source)
            self._replace(temporary, final)
        except self.errors as exc:
            with contextlib.suppress(*self.errors):
                self._remove(temporary)
            raise ExchangeError(
                MSG_UPLOAD.format(name=final, where=self.location.where, reason=self._reason(exc))
            ) from None

    def free_name(self, name: str, subfolder: str) -> str:
        """`name`, or `name` numbered (x.2.csv, x.3.csv...) when the subfolder already holds it;
        the subfolder is created when missing."""
        with self._failing("Creating", subfolder):
            self._make_folder(subfolder)
            taken = set(self._names(subfolder))
        stem, dot, suffix = name.rpartition(".")
        candidate, number = name, 1
        while candidate in taken or f"{candidate}.report.txt" in taken:
            number += 1
            candidate = f"{stem}.{number}.{suffix}" if dot else f"{name}.{number}"
        return candidate

    def move(self, name: str, subfolder: str, new_name: str) -> None:
        with self._failing(f"Moving {name} to {subfolder}/ in", ""):
            self._rename(name, self._join(subfolder, new_name))

    def close(self) -> None:
        pass

    # ------------------------------------------------------------ what each transport provides

    def _names(self, subfolder: str) -> list[str]:
        raise NotImplementedError

    def _get(self, name: str, into: BinaryIO) -> None:
        raise NotImplementedError

    def _put(self, path: str, source: BinaryIO) -> None:
        raise NotImplementedError

    def _replace(self, source: str, target: str) -> None:
        raise NotImplementedError

    def _rename(self, source: str, target: str) -> None:
        raise NotImplementedError

    def _remove(self, path: str) -> None:
        raise NotImplementedError

    def _make_folder(self, subfolder: str) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _join(subfolder: str, name: str) -> str:
        return f"{subfolder}/{name}" if subfolder else name

    def _reason(self, exc: BaseException) -> str:
        """The error's own words on one line, without any secret."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        for secret in self.location.secrets:
            text = text.replace(secret, "***")
        return text.rstrip(".")

    def _no_folder(self, exc: BaseException) -> str:
        return MSG_NO_FOLDER.format(where=self.location.where).rstrip(".") + f": {self._reason(exc)}."

    @contextlib.contextmanager
    def _failing(self, action: str, subfolder: str):
        try:
            yield
        except self.errors as exc:
            where = self.location.where + (f" ({subfolder}/)" if subfolder else "")
            raise ExchangeError(MSG_FAILED.format(action=action, where=where, reason=self._reason(exc))) from None


class LocalFolder(Folder):
    def __init__(self, location: Location):
        super().__init__(location)
        self.root = Path(location.path)
        if not self.root.is_dir():
            raise ExchangeError(MSG_NO_FOLDER.format(where=location.where))

    def _names(self, subfolder):
        folder = self.root / subfolder
        return [entry.name for entry in os.scandir(folder) if entry.is_file()] if folder.is_dir() else []

    def _get(self, name, into):
        with open(self.root / name, "rb") as source:
            shutil.copyfileobj(source, into, BLOCK)

    def _put(self, path, source):
        with open(self.root / path, "xb") as target:
            shutil.copyfileobj(source, target, BLOCK)
            target.flush()
            os.fsync(target.fileno())

    def _replace(self, source, target):
        os.replace(self.root / source, self.root / target)

    def _rename(self, source, target):
        os.replace(self.root / source, self.root / target)

    def _remove(self, path):
        os.remove(self.root / path)

    def _make_folder(self, subfolder):
        (self.root / subfolder).mkdir(exist_ok=True)


class _FtpTls(ftplib.FTP_TLS):
    """Explicit FTPS whose data connections resume the control connection's TLS session, which
    servers such as vsftpd (require_ssl_reuse) and FileZilla Server insist on."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321  (wrapped in TLS below)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


class FtpFolder(Folder):
    """FTP, or FTPS with `ftps://` (AUTH TLS on the usual port; the server's certificate is checked
    against the system's certificate authorities, or those of the file SSL_CERT_FILE names)."""

    errors = ftplib.all_errors

    def __init__(self, location: Location):
        super().__init__(location)
        tls = location.scheme == "ftps"
        if tls:
            self.ftp = _FtpTls(context=ssl.create_default_context(), timeout=TIMEOUT)
        else:
            self.ftp = ftplib.FTP(timeout=TIMEOUT)  # noqa: S321  (plain FTP is what the URL asks for)
        server = f"{location.scheme.upper()} server {location.where}"
        try:
            self.ftp.connect(location.host, location.port)
        except self.errors as exc:
            raise ExchangeError(MSG_CONNECT.format(where=location.where, reason=self._reason(exc))) from None
        try:
            self.ftp.login(location.user or "anonymous", location.password)
            if tls:
                self.ftp.prot_p()
        except ssl.SSLError as exc:
            self.close()
            raise ExchangeError(MSG_TLS.format(where=location.where, reason=self._reason(exc))) from None
        except ftplib.error_perm as exc:
            self.close()
            raise ExchangeError(
                MSG_LOGIN.format(where=server, user=location.user or "anonymous", reason=self._reason(exc))
            ) from None
        except self.errors as exc:
            self.close()
            raise ExchangeError(MSG_CONNECT.format(where=location.where, reason=self._reason(exc))) from None
        folder = location.path.lstrip("/")  # relative to the login folder, as in curl
        if folder:
            try:
                self.ftp.cwd(folder)
            except self.errors as exc:
                self.close()
                raise ExchangeError(self._no_folder(exc)) from None

    def _names(self, subfolder):
        try:
            return [name for name, facts in self.ftp.mlsd(subfolder, facts=["type"]) if facts.get("type") == "file"]
        except ftplib.error_perm:  # a server without MLSD: NLST, and the caller filters by name
            return [PurePosixPath(name).name for name in self.ftp.nlst(*([subfolder] if subfolder else []))]

    def _get(self, name, into):
        self.ftp.retrbinary(f"RETR {name}", into.write, blocksize=BLOCK)

    def _put(self, path, source):
        self.ftp.storbinary(f"STOR {path}", source, blocksize=BLOCK)

    def _replace(self, source, target):
        try:
            self.ftp.rename(source, target)
        except ftplib.error_perm:
            # A server that will not rename over an existing file: the old one goes first.
            with contextlib.suppress(ftplib.error_perm):
                self.ftp.delete(target)
            self.ftp.rename(source, target)

    def _rename(self, source, target):
        self.ftp.rename(source, target)

    def _remove(self, path):
        self.ftp.delete(path)

    def _make_folder(self, subfolder):
        with contextlib.suppress(ftplib.error_perm):  # already there (or refused: the move says so)
            self.ftp.mkd(subfolder)

    def close(self):
        try:
            self.ftp.quit()
        except self.errors:
            self.ftp.close()


class _RefuseUnknownHost(paramiko.MissingHostKeyPolicy):
    def __init__(self, known: Path, port: int):
        self.known, self.port = known, port

    def missing_host_key(self, client, hostname, key):
        plain = hostname.split("]")[0].lstrip("[")
        raise ExchangeError(
            MSG_HOST_UNKNOWN.format(
                host=hostname,
                key=_fingerprint(key),
                known=self.known,
                port=f" -p {self.port}" if self.port != 22 else "",
                hostname=plain,
            )
        )


def _fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


class SftpFolder(Folder):
    """SFTP with a password or a key file (HIS_EXCHANGE_KEY_FILE; HIS_EXCHANGE_PASSWORD is then its
    passphrase). The server's host key must be in HIS_EXCHANGE_KNOWN_HOSTS. The path is absolute;
    `/~/dir` is relative to the user's home, as in curl."""

    errors = (OSError, EOFError, paramiko.SSHException)

    def __init__(self, location: Location):
        super().__init__(location)
        self.client = paramiko.SSHClient()
        self.sftp = None
        known = Path(settings.HIS_EXCHANGE_KNOWN_HOSTS).expanduser()
        if known.exists():
            try:
                self.client.load_host_keys(str(known))
            except (OSError, paramiko.SSHException, ValueError) as exc:
                raise ExchangeError(MSG_KNOWN_HOSTS.format(known=known, reason=self._reason(exc))) from None
        self.client.set_missing_host_key_policy(_RefuseUnknownHost(known, location.port))
        key_file = settings.HIS_EXCHANGE_KEY_FILE or None
        try:
            self.client.connect(
                location.host,
                port=location.port,
                username=location.user,
                password=location.password or None,
                key_filename=key_file,
                timeout=TIMEOUT,
                banner_timeout=TIMEOUT,
                auth_timeout=TIMEOUT,
                allow_agent=False,
                look_for_keys=False,
            )
        except ExchangeError:
            self.close()
            raise
        except paramiko.BadHostKeyException as exc:
            self.close()
            raise ExchangeError(
                MSG_HOST_CHANGED.format(
                    host=exc.hostname, key=_fingerprint(exc.key), known=known, expected=_fingerprint(exc.expected_key)
                )
            ) from None
        except paramiko.AuthenticationException as exc:
            self.close()
            how = f"key file {key_file}" if key_file else "password"
            raise ExchangeError(
                MSG_LOGIN.format(
                    where=f"SFTP server {location.where}", user=location.user, reason=f"{self._reason(exc)} ({how})"
                )
            ) from None
        except self.errors as exc:
            self.close()
            raise ExchangeError(MSG_CONNECT.format(where=location.where, reason=self._reason(exc))) from None
        try:
            self.sftp = self.client.open_sftp()
            self.sftp.get_channel().settimeout(TIMEOUT)
            self.sftp.chdir(self._start_folder(location.path))
        except self.errors as exc:
            self.close()
            raise ExchangeError(self._no_folder(exc)) from None

    @staticmethod
    def _start_folder(path: str) -> str:
        if path in ("", "/~", "/~/"):
            return "."
        if path.startswith("/~/"):
            return path[3:]
        return path

    def _names(self, subfolder):
        return [a.filename for a in self.sftp.listdir_attr(subfolder or ".") if stat.S_ISREG(a.st_mode or 0)]

    def _get(self, name, into):
        self.sftp.getfo(name, into)

    def _put(self, path, source):
        with self.sftp.open(path, "wb") as target:
            target.set_pipelined(True)
            shutil.copyfileobj(source, target, BLOCK)

    def _replace(self, source, target):
        try:
            self.sftp.posix_rename(source, target)  # OpenSSH's extension: replaces the target at once
        except OSError:
            # A server without it: plain SFTP rename refuses an existing target, so the old one goes first.
            with contextlib.suppress(OSError):
                self.sftp.remove(target)
            self.sftp.rename(source, target)

    def _rename(self, source, target):
        self.sftp.rename(source, target)

    def _remove(self, path):
        self.sftp.remove(path)

    def _make_folder(self, subfolder):
        with contextlib.suppress(OSError):
            self.sftp.mkdir(subfolder)

    def close(self):
        with contextlib.suppress(Exception):
            if self.sftp is not None:
                self.sftp.close()
        self.client.close()
