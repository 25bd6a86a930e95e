"""What scripts/coldstart and scripts/bench share: moto from .venv, a TCP proxy that sees each
DynamoDB request, free ports and the settings of scripts/config/lambda-local.env. Standard library."""

import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_env():
    env = {}
    for line in (ROOT / "scripts/config/lambda-local.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def start_moto(log_name):
    """moto on a free loopback port, from .venv (installed as scripts/test does if missing)."""
    venv = ROOT / ".venv"
    if not (venv / "bin/moto_server").exists():
        print("==> installing moto into .venv", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check",
                        "moto[server]>=5.1,<6"], check=True)
    port = free_port()
    log = open(ROOT / "target" / log_name, "w")
    moto = subprocess.Popen([str(venv / "bin/python"), str(ROOT / "scripts/moto-server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=log)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/")
            return moto, port
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"moto did not start; see target/{log_name}")


def self_signed_tls(directory):
    """A throw-away certificate for `localhost` and a CA bundle of the system's roots plus it,
    for SSL_CERT_FILE, so clients load as many roots as they would in Lambda. None when the
    openssl command is missing."""
    if not shutil.which("openssl"):
        return None
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key, bundle = directory / "proxy-cert.pem", directory / "proxy-key.pem", \
        directory / "ca-bundle.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "extendedKeyUsage=serverAuth", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    system = pathlib.Path("/etc/ssl/certs/ca-certificates.crt")
    bundle.write_bytes((system.read_bytes() if system.exists() else b"") + cert.read_bytes())
    return {"cert": cert, "key": key, "bundle": bundle}


class DynamoProxy:
    """DynamoDB's endpoint as a client sees it, in front of moto: notes, with clock(), when each
    client connection opens and each DynamoDB request starts (by its X-Amz-Target header). With
    `tls` (from self_signed_tls) it terminates TLS as DynamoDB's endpoint does, so a client's
    first request pays a handshake.

    It keeps client connections alive across requests, as DynamoDB does. moto's development
    server (Werkzeug) answers every request with `Connection: close`, so without this each
    request would pay a new connection and handshake, and a function that warmed its
    connection up during init would still open another for its first request: the proxy
    forwards each request over a fresh connection to moto and drops that header."""

    TARGET = re.compile(rb"x-amz-target:\s*DynamoDB_\d+\.(\w+)", re.I)
    LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.I | re.M)
    CLOSE = re.compile(rb"^connection:\s*close\s*\r\n", re.I | re.M)

    def __init__(self, upstream_port, clock=time.monotonic, tls=None):
        self.clock = clock
        self.tls = None
        if tls:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(tls["cert"], tls["key"])
        self.url_scheme = "https" if tls else "http"
        self.upstream = ("127.0.0.1", upstream_port)
        self.events = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def note(self, what):
        with self.lock:
            self.events.append((self.clock(), what))

    def take(self):
        with self.lock:
            events, self.events = self.events, []
        return events

    def accept(self):
        while True:
            client, _ = self.sock.accept()
            self.note("connect")
            threading.Thread(target=self.connect, args=(client,), daemon=True).start()

    @property
    def endpoint(self):
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{self.url_scheme}://{host}:{self.port}"

    def connect(self, client):
        try:
            # Answers go out at once, as from a server tuned for request/response traffic:
            # with Nagle's algorithm, the answer would wait for the client to acknowledge the
            # TLS session tickets sent after the handshake, which it delays by up to 40 ms.
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                client = self.tls.wrap_socket(client, server_side=True)
            pending = b""
            while True:
                request, pending = self.read_message(client, pending)
                if request is None:
                    break
                for match in self.TARGET.finditer(request.split(b"\r\n\r\n", 1)[0]):
                    self.note(match.group(1).decode())
                response, keep = self.exchange(request)
                client.sendall(response)
                if not keep:
                    break
        except OSError:
            pass
        finally:
            try:
                client.close()
            except OSError:
                pass

    def exchange(self, request):
        """One request over its own connection to moto; the response, and whether the client
        connection can stay open (it can when the response says how long it is)."""
        with socket.create_connection(self.upstream) as upstream:
            upstream.sendall(request)
            response, leftover = self.read_message(upstream, b"")
            if response is None:
                raise OSError("moto closed the connection without answering")
            head, body = response.split(b"\r\n\r\n", 1)
            if self.LENGTH.search(head):
                return self.CLOSE.sub(b"", head + b"\r\n") + b"\r\n" + body, True
            # No length: the body runs to the end of moto's answer; the client must see it end.
            body += leftover
            while chunk := upstream.recv(65536):
                body += chunk
            return head + b"\r\n\r\n" + body, False

    @staticmethod
    def ack_now(sock):
        """Acknowledge what arrives at once, as a server that answers quickly does: a client
        that writes a request's head and body separately (Nagle's algorithm on) otherwise
        waits for Linux's delayed ACK (up to 40 ms) before sending the body."""
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except (OSError, AttributeError):
            pass

    @classmethod
    def read_message(cls, sock, pending):
        """An HTTP/1.1 message (head and a Content-Length body) from `sock`, after `pending`
        bytes already read; (None, b"") at the end of the stream."""
        while b"\r\n\r\n" not in pending:
            cls.ack_now(sock)
            chunk = sock.recv(65536)
            if not chunk:
                return None, b""
            pending += chunk
        head, rest = pending.split(b"\r\n\r\n", 1)
        length = cls.LENGTH.search(head)
        size = int(length.group(1)) if length else 0
        while len(rest) < size:
            cls.ack_now(sock)
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest[:size], rest[size:]


