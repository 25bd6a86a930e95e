"""What scripts/coldstart and scripts/bench share: moto from .venv, a TCP proxy that sees each
DynamoDB request, free ports and the settings of scripts/lambda-local.env. Standard library."""

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

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_env():
    env = {}
    for line in (ROOT / "scripts/lambda-local.env").read_text().splitlines():
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
    moto = subprocess.Popen([str(venv / "bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
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
    """Forwards TCP to moto and notes, with clock(), when each connection opens and each
    DynamoDB request starts (by its X-Amz-Target header). With `tls` (from self_signed_tls) it
    terminates TLS as DynamoDB's endpoint does, so a client's first request pays a handshake."""

    TARGET = re.compile(rb"x-amz-target:\s*DynamoDB_\d+\.(\w+)", re.I)

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
            if self.tls:
                client = self.tls.wrap_socket(client, server_side=True)
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        threading.Thread(target=self.pump, args=(server, client, False), daemon=True).start()
        self.pump(client, server, True)

    def pump(self, src, dst, requests):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if requests:
                    for match in self.TARGET.finditer(data):
                        self.note(match.group(1).decode())
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


