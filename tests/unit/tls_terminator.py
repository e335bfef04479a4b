"""TLS in front of a plaintext Kafka broker, for the live TLS tests: Tansu 0.6.0 takes
``--cert``/``--key`` but does not serve TLS (its acceptor is built and never used), so a
terminator on loopback speaks real TLS to librdkafka (optionally requiring a client
certificate: mutual TLS) and forwards the bytes to the broker, which advertises the
terminator's address. Certificates are made here with ``cryptography`` (a CA, a server
certificate for 127.0.0.1, a client certificate whose key is encrypted)."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path  # encrypted with key_password
    key_password: str
    other_ca: Path  # a CA that signed nothing here


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
          issuer_key: ec.EllipticCurvePrivateKey, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey, password: str = "") -> Path:
    crypt: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode()) if password
        else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8, crypt))
    return path


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def make_pki(folder: Path, key_password: str) -> Pki:
    keys = {name: ec.generate_private_key(ec.SECP256R1())
            for name in ("ca", "server", "client", "other")}
    ca = _cert("k2matrix test CA", keys["ca"], "k2matrix test CA", keys["ca"], ca=True)
    other = _cert("another CA", keys["other"], "another CA", keys["other"], ca=True)
    return Pki(
        ca=_write_cert(folder / "ca.pem", ca),
        server_cert=_write_cert(folder / "server.pem", _cert(
            "127.0.0.1", keys["server"], "k2matrix test CA", keys["ca"], ca=False)),
        server_key=_write_key(folder / "server.key", keys["server"]),
        client_cert=_write_cert(folder / "client.pem", _cert(
            "k2matrix client", keys["client"], "k2matrix test CA", keys["ca"], ca=False)),
        client_key=_write_key(folder / "client.key", keys["client"], key_password),
        key_password=key_password,
        other_ca=_write_cert(folder / "other-ca.pem", other))


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def certificate_failures(failures: list[str]) -> list[str]:
    """The handshakes refused for the client's certificate (not a client hanging up)."""
    return [f for f in failures if "CERTIFICATE" in f.upper()]


class TlsTerminator:
    """Accepts TLS on ``port`` (client certificates signed by ``client_ca`` required when
    given) and forwards each connection to ``upstream`` (host, port) in plaintext."""

    def __init__(self, port: int, upstream: tuple[str, int], pki: Pki,
                 require_client_cert: bool = False) -> None:
        self.upstream = upstream
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pki.server_cert, pki.server_key)
        if require_client_cert:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(pki.ca)
        self.listener = socket.create_server(("127.0.0.1", port))
        self.failures: list[str] = []  # why each TLS handshake failed
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.failures.append(str(exc))
            raw.close()
            return
        upstream = socket.create_connection(self.upstream)
        self.connections += [tls, upstream]
        threading.Thread(target=_pump, args=(upstream, tls), daemon=True).start()
        _pump(tls, upstream)

    def close(self) -> None:
        self.listener.close()
        for sock in self.connections:
            sock.close()
