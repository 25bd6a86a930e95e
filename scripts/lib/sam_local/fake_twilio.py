"""A fake of Twilio's REST API: the functions in their containers cannot reach Twilio."""

import base64
import fnmatch
import hmac
import http.server
import json
import threading
import urllib.parse


class FakeTwilio:
    """Twilio's REST API as far as the reconciler reads it and a send writes it, on HOST
    (where the containers reach this machine), in a thread: `GET
    /2010-04-01/Accounts/{AccountSid}/Messages.json` answers an empty page, a `POST` of a text
    (`To`, `From`, `Body`) 201 with the message queued (its sid, SENT_SID, is the fixture's); a
    request without the development API key as HTTP Basic auth 401, anything else 404, both in
    Twilio's error shape. Keeps every request as (method, path, query and form, authorized)."""

    SENT_SID = "SM5e0d1c2b3a4958677685a4b3c2d1e0f9"

    def __init__(self, host, account_sid, api_key_sid, api_key_secret):
        self.requests = []
        lock = threading.Lock()
        expected = "Basic " + base64.b64encode(f"{api_key_sid}:{api_key_secret}".encode()).decode()
        messages = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                url = urllib.parse.urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorized = hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode())
                query = urllib.parse.parse_qs(url.query)
                form = urllib.parse.parse_qs(raw.decode(errors="replace")) if self.command == "POST" else {}
                query.update(form)
                with lock:
                    requests.append((self.command, url.path, query, authorized))
                if not authorized:
                    status, body = 401, {"code": 20003, "message": "Authenticate", "status": 401}
                elif self.command == "POST" and url.path == messages:
                    missing = [k for k in ("To", "From", "Body") if not form.get(k)]
                    if missing:
                        status, body = 400, {"code": 21604, "message": f"A '{missing[0]}' is required",
                                             "status": 400}
                    else:
                        status, body = 201, {
                            "sid": FakeTwilio.SENT_SID, "account_sid": account_sid, "to": form["To"][0],
                            "from": form["From"][0], "body": form["Body"][0], "status": "queued",
                            "direction": "outbound-api", "num_segments": "1", "num_media": "0",
                            "error_code": None, "error_message": None, "price": None,
                            "date_created": "Mon, 07 Dec 2026 12:00:00 +0000", "date_sent": None,
                            "uri": f"{messages[:-5]}/{FakeTwilio.SENT_SID}.json"}
                elif self.command == "GET" and url.path == messages:
                    status, body = 200, {"messages": [], "next_page_uri": None, "page": 0, "start": 0, "end": 0,
                                         "uri": self.path, "first_page_uri": self.path, "previous_page_uri": None}
                else:
                    status, body = 404, {"code": 20404, "message": "The requested resource was not found",
                                         "status": 404}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, checks, since):
        """What is wrong with the requests since the SINCE'th by the `twilio` checks (pattern
        on "METHOD path", count), and a note on them."""
        seen = self.requests[since:]
        wrong = [f"fake Twilio: {m} {p} without the development API key" for m, p, _, ok in seen if not ok]
        for _, pattern, count in (c for c in checks if c[0] == "twilio"):
            matching = [r for r in seen if fnmatch.fnmatch(f"{r[0]} {r[1]}", pattern)]
            if len(matching) != count:
                wrong.append(f"fake Twilio: {len(matching)} requests {pattern}, expected {count}")
        tos = sorted(t for _, _, q, _ in seen for t in q.get("To", []))
        note = f"  fake Twilio: {len(seen)} requests" + (f", To {' '.join(tos)}" if tos else "") if seen else None
        return wrong, note
