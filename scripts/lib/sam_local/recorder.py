"""Every AWS call the functions make in `sam local invoke`, recorded on the way to moto.

The functions' DynamoDB and Secrets Manager endpoint (baked into the stand-in image) is this
recorder, not moto. Each function gets its own TABLE_NAME (`<table>--fn--<LogicalId>`),
SECRETS_ARN (`<arn>#fn=<LogicalId>`) and @connections URL (`<recorder>/fn/<LogicalId>`)
through --env-vars (settings.py), so that a call says which function made it; the recorder
takes the tag off, writes the call as one JSON line (function, service, operation, the
request as the function sent it, untagged), and forwards it to moto unchanged otherwise.
iam.py checks the lines against the template's statements.
"""

import http.server
import json
import re
import threading
import urllib.error
import urllib.request

TABLE_TAG = "--fn--"
SECRET_TAG = "#fn="
PATH_TAG = re.compile(r"^/fn/([A-Za-z0-9]+)(/.*)?$")
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def untag_tables(value, found):
    """The request with every table name's tag taken off; the functions found in `found`."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "TableName" and isinstance(v, str) and TABLE_TAG in v:
                name, fn = v.split(TABLE_TAG, 1)
                found.add(fn)
                out[k] = name
            elif k == "RequestItems" and isinstance(v, dict):
                items = {}
                for table, requests in v.items():
                    if TABLE_TAG in table:
                        name, fn = table.split(TABLE_TAG, 1)
                        found.add(fn)
                        table = name
                    items[table] = untag_tables(requests, found)
                out[k] = items
            else:
                out[k] = untag_tables(v, found)
        return out
    if isinstance(value, list):
        return [untag_tables(v, found) for v in value]
    return value


class Recorder(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, moto, log_path):
        super().__init__(address, Handler)
        self.moto = moto.rstrip("/")
        self.log = open(log_path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def record(self, line):
        with self.lock:
            self.log.write(json.dumps(line) + "\n")
            self.log.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("x-amz-target") or ""
        path = self.path
        record = {"method": self.command, "path": path}
        functions = set()
        m = PATH_TAG.match(path)
        if m:
            functions.add(m.group(1))
            path = m.group(2) or "/"
            record["path"] = path
        if target:
            service, _, operation = target.partition(".")
            record["service"], record["operation"] = service, operation
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = None
            if isinstance(request, dict):
                if service.startswith("DynamoDB"):
                    request = untag_tables(request, functions)
                secret = request.get("SecretId")
                if isinstance(secret, str) and SECRET_TAG in secret:
                    request["SecretId"], fn = secret.split(SECRET_TAG, 1)
                    functions.add(fn)
                record["request"] = request
                body = json.dumps(request).encode()
        record["function"] = ",".join(sorted(functions)) or None
        self.server.record(record)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        forward = urllib.request.Request(self.server.moto + path, data=body if body or self.command in
                                         ("POST", "PUT") else None, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(forward, timeout=60) as answer:
                status, answer_headers, payload = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as err:
            status, answer_headers, payload = err.code, err.headers, err.read()
        self.send_response(status)
        for k, v in answer_headers.items():
            if k.lower() not in HOP_HEADERS:
                self.send_header(k, v)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def cmd_recorder(host, port, moto, log_path):
    server = Recorder((host, int(port)), moto, log_path)
    server.serve_forever()
