#!/usr/bin/env python3
"""The JSON and YAML work of scripts/sam-local: the stand-in base image, which fixture goes to
which function, and the `sam local invoke` loop with its checks.

Commands (run with the .venv's python, which has PyYAML and boto3 through the SAM CLI and moto):

  image ARCH DEBS_DIR CA_BUNDLE OUT_TAR ENDPOINT
      Writes a `docker load` archive of two images sharing one layer: the stand-in for the
      provided.al2023 base image (the C library and libgcc_s from Debian's packages for ARCH,
      a static busybox for the shell, the CA bundle) as softphone-presence/al2023-standin:ARCH,
      and the same with AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SECRETS_MANAGER=ENDPOINT
      as softphone-presence/sam-local:ARCH.
  functions TEMPLATE
      One line per function of the template: logical id, binary, architecture.
  plan TEMPLATE EVENTS_DIR
      Which function each fixture goes to, in the order invoke runs them; fails when a fixture
      maps to no function or a function has no fixture.
  invoke TEMPLATE EVENTS_DIR BUILT_TEMPLATE IMAGE ENV_VARS_JSON PARAMETER_OVERRIDES LOG_DIR
         MOTO_ENDPOINT TABLE
      `sam local invoke` of every fixture with its function, each answer checked, one line
      `<LogicalId> <fixture> -> <statusCode>` each (logs in LOG_DIR), and the device the
      register -> heartbeat -> list sequence stored, read back from moto; exits non-zero on
      any failed check. Starts a fake of Twilio's REST API on MOTO_ENDPOINT's host for the
      Twilio credentials the functions get (PARAMETER_OVERRIDES, and the API key's secret from
      the SecretsArn secret there) and points TWILIO_API_BASE_URL's parameter at it.
  settings TEMPLATE ENV_FILE OUT_JSON MOTO_ENDPOINT [Param=value ...]
      The development settings of ENV_FILE as parameter overrides (printed) and an --env-vars
      file, through the template's own wiring; a WebSocket API's @connections endpoint is moto,
      and the secrets of ENV_FILE go into a secret in moto's Secrets Manager that SECRETS_ARN
      names, as the template's own secret in AWS.
  start-api-template BUILT_TEMPLATE OUT
      The built template with its AWS::ApiGatewayV2 resources first and no WebSocket routes, for
      `sam local start-api`.
  bootstraps TEMPLATE BUILD_DIR
      Every built bootstrap is an ELF for the template's architecture needing no glibc newer
      than Amazon Linux 2023's.
  table-indexes TEMPLATE MOTO_ENDPOINT TABLE
      The table in moto has every global secondary index of the template's table.
"""

import base64
import fnmatch
import gzip
import hashlib
import hmac
import http.server
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse

import yaml

# ---------------------------------------------------------------------------------------------
# Expected answers. Status, body shape and run order are derived from a fixture's name and kind
# (app route: a JSON object; Twilio webhook: 200 TwiML, text/xml). This table only orders the
# fixtures into a story (register -> heartbeat -> list shows the device stored in moto; the
# call webhooks and the SMS inbox while Alice is live; unregister last), adds content checks
# (on the answer, in moto, and the requests the fake Twilio got), and gives the function a
# setting the fixture needs. A fixture it does not name runs after the named ones with the
# derived checks alone. First match wins.
# ---------------------------------------------------------------------------------------------
ALICE = "u_org_5Fdemo__alice_40example_2Ecom"
EXPECT = [
    # (pattern, order, settings for this invocation, checks on the answer)
    ("register-device.json", 10, {}, [("json", "identity", ALICE), ("json", "device.deviceId", "dev_a1b2c3")]),
    ("heartbeat.json", 20, {}, []),
    ("list-devices.json", 30, {}, [("json-contains", "devices[].deviceId", "dev_a1b2c3"),
                                   ("moto", f"softphone:org_demo:{ALICE}", "dev_a1b2c3")]),
    ("user-phones.json", 40, {}, [("json-len", "assignedPhones", 2)]),
    # The realtime channel while Alice's device is live: a ticket, the event log, then the
    # WebSocket connect, ping, a stream batch pushed to the connection, and disconnect.
    ("events-ticket.json", 41, {}, [("json", "expiresIn", 60)]),
    ("events-catch-up.json", 42, {}, [("json-type", "events", list)]),
    ("events-expired-cursor.json", 43, {}, [("status", 410), ("json", "error.code", "cursor_expired")]),
    ("realtime-connect-bad-ticket.json", 44, {}, []),
    ("realtime-connect.json", 45, {}, [("header", "sec-websocket-protocol", "softphone-presence.v1")]),
    ("realtime-ping.json", 46, {}, [("json", "type", "pong")]),
    ("realtime-push-stream.json", 47, {}, []),
    ("realtime-disconnect.json", 48, {}, []),
    # The gateway fixture carries claims an API Gateway JWT authorizer verified (AuthMode=gateway).
    ("register-device-gateway-authorizer.json", 50, {"AUTH_MODE": "gateway"},
     [("json", "identity", "u_org_5Fdemo__bob_40example_2Ecom")]),
    ("voice-incoming-function-url.json", 60, {}, [("text", f"<Identity>{ALICE}</Identity>")]),
    ("voice-incoming-http-api.json", 61, {}, [("text", '<Parameter name="phoneId" value="phone-alice"/>')]),
    ("voice-outgoing-function-url.json", 62, {}, [("text", ">+14155559999</Number>")]),
    ("call-status-answered-function-url.json", 63, {}, []),
    ("call-status-completed-function-url.json", 64, {}, []),
    ("dial-status-no-answer-function-url.json", 65, {}, [("text", "<Record")]),
    ("dial-status-completed-function-url.json", 66, {}, [("text", "<Hangup/>")]),
    ("voice-fallback-function-url.json", 67, {}, [("text", "<Record")]),
    # The SMS inbox while Alice is live: a customer texts Sales (Alice and Bob), Alice lists,
    # reads, finds no media, and cannot reply while Twilio's REST API is unreachable (nothing
    # listens on port 9 of the container; the fake Twilio sees no request); a status callback
    # for a text not stored; the fallback of a number this cold process has not seen forwards
    # nothing; the reconciler lists each demo number from the fake Twilio and finds nothing.
    ("sms-incoming-function-url.json", 70, {}, [("text-end", "<Response></Response>"),
                                                ("moto", "smsid:SM7c1b0d9a8e2f4c3b6a5d4e3f2a1b0c9d", "msg"),
                                                ("moto", "sms:org_demo:phone-sales", "conv:+14155550199")]),
    ("sms-conversations.json", 71, {}, [("json", "conversations[].with", "+14155550199"),
                                        ("json", "conversations[].unread", 1)]),
    ("sms-messages.json", 72, {}, [("json", "messages[].body", "Is the blue one in stock?")]),
    ("sms-read.json", 73, {}, [("json", "unread", 0)]),
    ("sms-media-not-found.json", 74, {}, [("status", 404), ("json", "error.code", "not_found")]),
    ("sms-send-twilio-unreachable.json", 75, {"TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
     [("status", 503), ("json", "error.code", "twilio_unavailable"), ("twilio", "*", 0),
      ("moto-absent", f"softphone:org_demo:{ALICE}", "~smssend:c0ffee-1")]),
    ("sms-status-function-url.json", 76, {}, [("text-end", "<Response></Response>")]),
    ("sms-fallback-function-url.json", 77, {}, [("text-end", "<Response></Response>")]),
    ("sms-reconcile-schedule.json", 78, {}, [("json", "numbers", 5), ("json", "listed", 0),
                                             ("json", "recovered", 0), ("json", "failed", []),
                                             ("twilio", "GET /2010-04-01/Accounts/*/Messages.json", 5)]),
    # Call history: a voicemail left on Sales (a completed recording's callback, the call's
    # reference in its query; the longest retention, since the fixture's call is of
    # 2026-11-21) is in Alice's recent calls; she marks it seen; playing it reaches for
    # Twilio's REST API (unreachable, so she may play it); another recording is none of hers.
    ("recording-status-function-url.json", 78.1, {"CALL_HISTORY_RETENTION_DAYS": "3650"},
     [("text-end", "<Response></Response>"),
      ("moto", "voicemail:RE1a2b3c4d5e6f708192a3b4c5d6e7f809", "vm")]),
    ("calls-history.json", 78.2, {}, [("json", "calls[].outcome", "voicemail"), ("json", "unseenMissed", 1)]),
    ("calls-seen.json", 78.3, {}, [("json", "upTo", "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10")]),
    ("voicemail-twilio-unreachable.json", 78.4, {"TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
     [("status", 503), ("json", "error.code", "twilio_unavailable")]),
    ("voicemail-not-found.json", 78.5, {}, [("status", 404), ("json", "error.code", "not_found")]),
    ("*bad-signature*", 80, {}, []),
    ("*bad-jwt*", 81, {}, []),
    ("*unauthorized*", 82, {}, []),
    ("unregister-device.json", 90, {}, [("json", "removed", True)]),
]
UNLISTED_ORDER = 79


def expected_status(name, checks=()):
    for check in checks:
        if check[0] == "status":
            return check[1]
    if "bad-signature" in name:
        return 403
    if "bad-jwt" in name or "bad-ticket" in name or "unauthorized" in name:
        return 401
    return 200


def expectation(name):
    for pattern, order, settings, checks in EXPECT:
        if fnmatch.fnmatch(name, pattern):
            return order, settings, checks
    return UNLISTED_ORDER, {}, []


# ---------------------------------------------------------------------------------------------
# The template: CloudFormation YAML with its short-form tags.
# ---------------------------------------------------------------------------------------------
class CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


def load_template(path):
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def functions(template):
    return {k: v for k, v in template["Resources"].items() if v.get("Type") in FUNCTION_TYPES}


def architecture(template, fn):
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    archs = fn.get("Properties", {}).get("Architectures", globals_fn.get("Architectures", ["x86_64"]))
    return archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], str) else "x86_64"


def references(value):
    """Logical ids a value refers to: Ref, GetAtt and ${X} / ${X.Attr} inside Sub."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else str(v).split(".")[0])
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                out.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if isinstance(v, list) and len(v) > 1:
                    out |= references(v[1])
            else:
                out |= references(v)
    elif isinstance(value, list):
        for v in value:
            out |= references(v)
    return out


def referenced_functions(template, value, seen=None):
    """Functions a value leads to, following integrations (Route -> Integration -> function)."""
    seen = seen or set()
    resources = template["Resources"]
    out = set()
    for ref in references(value) - seen:
        seen.add(ref)
        res = resources.get(ref)
        if res is None:
            continue
        if res.get("Type") in FUNCTION_TYPES:
            out.add(ref)
        elif res.get("Type") == "AWS::ApiGatewayV2::Integration":
            out |= referenced_functions(template, res["Properties"].get("IntegrationUri"), seen)
        elif res.get("Type") == "AWS::Lambda::Alias" or res.get("Type") == "AWS::Lambda::Version":
            out |= referenced_functions(template, res["Properties"].get("FunctionName"), seen)
    return out


def api_protocol(template, api_ref):
    for ref in references(api_ref):
        res = template["Resources"].get(ref, {})
        if res.get("Type") == "AWS::ApiGatewayV2::Api":
            return res["Properties"].get("ProtocolType")
        if res.get("Type") == "AWS::Serverless::HttpApi":
            return "HTTP"
    return None


def routes(template, protocol):
    """(RouteKey, function) for every API Gateway v2 route of that protocol, and SAM events."""
    out = []
    for res in template["Resources"].values():
        if res.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        props = res["Properties"]
        if api_protocol(template, props.get("ApiId")) != protocol:
            continue
        for fn in referenced_functions(template, props.get("Target")):
            out.append((props.get("RouteKey"), fn))
    if protocol == "HTTP":
        for logical_id, fn in functions(template).items():
            for ev in (fn.get("Properties", {}).get("Events") or {}).values():
                if ev.get("Type") == "HttpApi":
                    p = ev.get("Properties") or {}
                    out.append((f"{p.get('Method', 'ANY').upper()} {p.get('Path', '$default')}", logical_id))
    return out


def functions_with_event(template, types):
    out = set()
    for logical_id, fn in functions(template).items():
        for ev in (fn.get("Properties", {}).get("Events") or {}).values():
            if ev.get("Type") in types:
                out.add(logical_id)
    return out


def mapping_targets(template, kind):
    """Functions fed by event source mappings, rules or schedules of a kind of event."""
    out = set()
    for res in template["Resources"].values():
        t, props = res.get("Type"), res.get("Properties") or {}
        if kind == "dynamodb" and t == "AWS::Lambda::EventSourceMapping":
            source = props.get("EventSourceArn")
            if any(template["Resources"].get(r, {}).get("Type") == "AWS::DynamoDB::Table" for r in references(source)):
                out |= referenced_functions(template, props.get("FunctionName"))
        if kind == "schedule" and t in ("AWS::Events::Rule", "AWS::Scheduler::Schedule"):
            if t == "AWS::Events::Rule" and not props.get("ScheduleExpression"):
                continue
            targets = props.get("Targets") or [props.get("Target") or {}]
            for target in targets:
                out |= referenced_functions(template, target.get("Arn"))
    return out


def route_matches(route_key, event_key):
    if route_key == event_key:
        return True
    # {proxy+} and {param} path parts
    method, _, path = (route_key or "").partition(" ")
    e_method, _, e_path = (event_key or "").partition(" ")
    if method not in ("ANY", e_method) or not path:
        return False
    pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path))
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
    return re.fullmatch(pattern, e_path) is not None


def fixture_kind(event):
    ctx = event.get("requestContext") or {} if isinstance(event, dict) else {}
    records = event.get("Records") if isinstance(event, dict) else None
    if ctx.get("eventType") in ("CONNECT", "DISCONNECT", "MESSAGE"):
        return "websocket"
    if records and isinstance(records, list) and records[0].get("eventSource") == "aws:dynamodb":
        return "dynamodb"
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return "schedule"
    if re.search(r"\.lambda-url\.[a-z0-9-]+\.on\.aws$", ctx.get("domainName", "")):
        return "function-url"
    if event.get("version") == "2.0" and event.get("routeKey"):
        return "http-api"
    return None


def candidates(template, event):
    kind = fixture_kind(event)
    if kind == "websocket":
        key = event["requestContext"].get("routeKey")
        ws = routes(template, "WEBSOCKET")
        found = {fn for rk, fn in ws if rk == key} or {fn for rk, fn in ws if rk == "$default"}
        return kind, found
    if kind == "dynamodb":
        return kind, functions_with_event(template, {"DynamoDB"}) | mapping_targets(template, "dynamodb")
    if kind == "schedule":
        return kind, functions_with_event(template, {"Schedule", "ScheduleV2"}) | mapping_targets(template, "schedule")
    if kind == "function-url":
        return kind, {k for k, f in functions(template).items() if f.get("Properties", {}).get("FunctionUrlConfig")}
    if kind == "http-api":
        return kind, {fn for rk, fn in routes(template, "HTTP") if route_matches(rk, event["routeKey"])}
    return "unknown", set()


def binary(fn):
    return ((fn.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary") or ""


def plan(template, events_dir):
    """[(order, fixture, function, settings, checks, kind)] and a list of problems."""
    fns = functions(template)
    out, problems = [], []
    for path in sorted(pathlib.Path(events_dir).glob("*.json")):
        event = json.loads(path.read_text())
        kind, found = candidates(template, event)
        if len(found) > 1 and kind == "function-url":
            # Several Function URLs: the function that also serves this path on the HTTP API
            # (as the webhooks do with WebhooksOnHttpApi).
            http = (event.get("requestContext") or {}).get("http") or {}
            key = f"{http.get('method', 'POST')} {event.get('rawPath', '')}"
            served = {fn for rk, fn in routes(template, "HTTP") if route_matches(rk, key)} & found
            found = served or found
        if len(found) > 1:
            # Still several: the one whose binary the fixture is named after.
            named = {f for f in found if binary(fns[f]) and path.name.startswith(binary(fns[f]))}
            found = named or found
        if kind == "unknown":
            problems.append(f"{path.name}: not an event this script can map (API Gateway HTTP or WebSocket, "
                            "Function URL, DynamoDB stream, EventBridge schedule)")
            continue
        if len(found) != 1:
            why = "no function" if not found else f"{len(found)} functions ({', '.join(sorted(found))}): " \
                "name it after the binary of the one it is for"
            problems.append(f"{path.name}: a {kind} fixture that maps to {why}")
            continue
        order, settings, checks = expectation(path.name)
        out.append((order, path.name, found.pop(), settings, checks, kind))
    covered = {p[2] for p in out}
    for fn in sorted(set(fns) - covered):
        problems.append(f"{fn}: no fixture in {events_dir}/ maps to it")
    out.sort(key=lambda p: (p[0], p[1]))
    return out, problems


# ---------------------------------------------------------------------------------------------
# Checks on an answer.
# ---------------------------------------------------------------------------------------------
def get_path(doc, dotted):
    """`a.b` or `a[].b` (every element's b) in a JSON document."""
    values = [doc]
    for part in dotted.split("."):
        many = part.endswith("[]")
        key = part[:-2] if many else part
        nxt = []
        for v in values:
            v = v.get(key) if isinstance(v, dict) else None
            if many:
                nxt.extend(v if isinstance(v, list) else [])
            else:
                nxt.append(v)
        values = nxt
    return values


NO_ANSWER = object()


def answer_label(kind, response):
    """What the one-line summary shows: the status code, or for events that are not HTTP
    requests (stream batches, schedules) `ok` or the number of failed records."""
    if isinstance(response, dict) and "statusCode" in response:
        return str(response["statusCode"])
    if kind in ("dynamodb", "schedule") and response is not NO_ANSWER and not is_error(response):
        failures = (response or {}).get("batchItemFailures") if isinstance(response, dict) else None
        return f"{len(failures)} batchItemFailures" if failures else "ok"
    return "?"


def is_error(response):
    """The answer of a function that returned an error or failed (Lambda's error shape)."""
    return isinstance(response, dict) and ("errorType" in response or "errorMessage" in response)


def check_answer(name, kind, response, checks, is_webhook):
    """A list of what is wrong with the answer (empty when it is right)."""
    if response is NO_ANSWER:
        return ["no answer on stdout"]
    if is_error(response):
        return [f"the function failed: {json.dumps(response)[:300]}"]
    if kind in ("dynamodb", "schedule"):
        # A stream batch answers null or {"batchItemFailures": [...]}; a schedule anything, its
        # JSON result checked as an HTTP answer's body is.
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        return ([f"batchItemFailures: {failures}"] if failures else []) + json_checks(response, checks)
    wrong = []
    if not isinstance(response, dict) or "statusCode" not in response:
        return [f"not a Lambda HTTP response: {str(response)[:300]}"]
    status = response["statusCode"]
    want = expected_status(name, checks)
    if status != want:
        wrong.append(f"status {status}, expected {want}")
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    ctype = headers.get("content-type", "")
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        import base64
        body = base64.b64decode(body).decode("utf-8", "replace")
    if kind == "websocket":
        # $connect and $disconnect may answer a bare status; a message a JSON frame.
        if body:
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if not isinstance(doc, dict):
                wrong.append(f"frame is not a JSON object: {body[:120]!r}")
    elif status == 200 and is_webhook:
        if not ctype.startswith("text/xml"):
            wrong.append(f"content-type {ctype!r}, expected text/xml TwiML")
        if not (body.startswith("<?xml") or body.startswith("<Response")):
            wrong.append(f"body is not TwiML: {body[:120]!r}")
    else:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            wrong.append(f"body is not a JSON object: {body[:120]!r}")
        elif status >= 400 and not (isinstance(doc.get("error"), dict) and doc["error"].get("code")):
            wrong.append(f"error body without error.code: {body[:160]!r}")
    if any(check[0].startswith("json") for check in checks):
        try:
            wrong += json_checks(json.loads(body), checks)
        except ValueError:
            wrong.append(f"json checks: body is not JSON: {body[:120]!r}")
    for check in checks:
        what = check[0]
        if what == "text" and check[1] not in body:
            wrong.append(f"body lacks {check[1]!r}: {body[:400]!r}")
        elif what == "text-end" and not body.endswith(check[1]):
            wrong.append(f"body does not end {check[1]!r}: {body[-400:]!r}")
        elif what == "header" and check[2] not in str(headers.get(check[1], "")):
            wrong.append(f"header {check[1]} is {headers.get(check[1])!r}, expected {check[2]!r}")
    return wrong


def json_checks(doc, checks):
    """What is wrong with a JSON document by the json* checks (`conversations[].with` is
    every conversation's `with`: `json` wants exactly one, equal)."""
    wrong = []
    for what, path, want in (c for c in checks if c[0].startswith("json")):
        values = get_path(doc, path)
        if what == "json" and values != [want]:
            wrong.append(f"{path} is {values}, expected {want!r}")
        if what == "json-contains" and want not in values:
            wrong.append(f"{path} {values} lacks {want!r}")
        if what == "json-len" and not (len(values) == 1 and isinstance(values[0], list) and len(values[0]) == want):
            wrong.append(f"{path} is not a list of {want}: {values}")
        if what == "json-type" and not (len(values) == 1 and isinstance(values[0], want)):
            wrong.append(f"{path} is {values}, not a {want.__name__}")
    return wrong


def is_webhook_fixture(event):
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return "x-twilio-signature" in headers


# ---------------------------------------------------------------------------------------------
# A fake of Twilio's REST API: the functions in their containers cannot reach Twilio.
# ---------------------------------------------------------------------------------------------
class FakeTwilio:
    """Twilio's REST API as far as the reconciler reads it, on HOST (where the containers
    reach this machine), in a thread: `GET /2010-04-01/Accounts/{AccountSid}/Messages.json`
    answers an empty page; a request without the development API key as HTTP Basic auth 401,
    anything else 404, both in Twilio's error shape. Keeps every request as (method, path,
    query, authorized)."""

    def __init__(self, host, account_sid, api_key_sid, api_key_secret):
        self.requests = []
        lock = threading.Lock()
        expected = "Basic " + base64.b64encode(f"{api_key_sid}:{api_key_secret}".encode()).decode()
        messages = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                url = urllib.parse.urlsplit(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorized = hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode())
                query = urllib.parse.parse_qs(url.query)
                with lock:
                    requests.append((self.command, url.path, query, authorized))
                if not authorized:
                    status, body = 401, {"code": 20003, "message": "Authenticate", "status": 401}
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


def parameter_of(template, var):
    """The template parameter a function's environment variable VAR is `!Ref`, or None."""
    params = template.get("Parameters") or {}
    for fn in functions(template).values():
        value = ((fn.get("Properties", {}).get("Environment") or {}).get("Variables") or {}).get(var)
        if isinstance(value, dict) and value.get("Ref") in params:
            return value["Ref"]
    return None


def start_fake_twilio(template, overrides, moto):
    """A FakeTwilio on moto's host for the credentials the functions get (the API key's secret
    from the SecretsArn secret, as they read it; the rest from parameters), and the overrides
    with TWILIO_API_BASE_URL's parameter pointing at it."""
    given = dict(item.split("=", 1) for item in overrides.split())
    secret = secret_values(moto, given["SecretsArn"]) if given.get("SecretsArn") else {}

    def setting(var):
        # As the functions layer the secret over the environment (shared/src/config/secrets.rs).
        if var in SECRET_NAMES and given.get("SecretsArn"):
            return secret.get(var, "")
        return secret.get(var) or given.get(parameter_of(template, var) or "", "")

    credentials = [setting(var) for var in ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET")]
    base_param = parameter_of(template, "TWILIO_API_BASE_URL")
    if not all(credentials) or not base_param:
        raise SystemExit("sam-local: the functions get TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and "
                         "TWILIO_API_KEY_SECRET (parameters or the SecretsArn secret) and "
                         "TWILIO_API_BASE_URL (a parameter) no longer")
    twilio = FakeTwilio(urllib.parse.urlsplit(moto).hostname, *credentials)
    given[base_param] = twilio.url
    print(f"fake Twilio REST API on {twilio.url} ({base_param})", flush=True)
    return twilio, " ".join(f"{k}={v}" for k, v in given.items())


# ---------------------------------------------------------------------------------------------
# Commands.
# ---------------------------------------------------------------------------------------------
def cmd_functions(template_path):
    t = load_template(template_path)
    for logical_id, fn in functions(t).items():
        print(logical_id, binary(fn) or "-", architecture(t, fn))


def cmd_plan(template_path, events_dir):
    steps, problems = plan(load_template(template_path), events_dir)
    for order, name, fn, settings, checks, kind in steps:
        print(f"{fn} {name} ({kind}{', ' + ', '.join(f'{k}={v}' for k, v in settings.items()) if settings else ''})")
    for p in problems:
        print(f"sam-local: {p}", file=sys.stderr)
    return 1 if problems else 0


def cmd_invoke(template_path, events_dir, built_template, image, env_vars_path, overrides, log_dir, moto, table):
    template = load_template(template_path)
    steps, problems = plan(template, events_dir)
    for p in problems:
        print(f"sam-local: {p}", file=sys.stderr)
    if problems:
        return 1
    base_env = json.loads(pathlib.Path(env_vars_path).read_text())
    twilio, overrides = start_fake_twilio(template, overrides, moto)
    log_dir = pathlib.Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    failed, slowest = 0, 0.0
    started = time.monotonic()
    for order, name, fn, settings, checks, kind in steps:
        env_file = env_vars_path
        if settings:
            env = json.loads(json.dumps(base_env))
            env.setdefault(fn, {}).update(settings)
            env_file = str(log_dir / f"env-{name}")
            pathlib.Path(env_file).write_text(json.dumps(env))
        cmd = ["sam", "local", "invoke", fn, "--event", str(pathlib.Path(events_dir) / name),
               "--template", built_template, "--invoke-image", image, "--skip-pull-image",
               "--env-vars", env_file, "--parameter-overrides", overrides, "--beta-features"]
        t0 = time.monotonic()
        twilio_seen = len(twilio.requests)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.monotonic() - t0
        (log_dir / f"{fn}-{name}.log").write_text(proc.stderr)
        response = NO_ANSWER
        for line in reversed(proc.stdout.strip().splitlines()):
            try:
                response = json.loads(line)
                break
            except ValueError:
                continue
        event = json.loads((pathlib.Path(events_dir) / name).read_text())
        wrong = [f"sam local invoke exited {proc.returncode}"] if proc.returncode else []
        wrong += check_answer(name, kind, response, checks, is_webhook_fixture(event))
        status = answer_label(kind, response)
        notes = []
        for check in checks:
            if check[0] == "moto":
                item = moto_item(moto, table, check[1], check[2])
                if item:
                    notes.append(f"  stored in moto: {item}")
                else:
                    wrong.append(f"no item {check[1]} / {check[2]} in moto")
            if check[0] == "moto-absent" and moto_item(moto, table, check[1], check[2]):
                wrong.append(f"item {check[1]} / {check[2]} in moto, expected none")
        twilio_wrong, twilio_note = twilio.check(checks, twilio_seen)
        wrong += twilio_wrong
        notes += [twilio_note] if twilio_note else []
        if kind == "schedule" and isinstance(response, dict) and not is_error(response):
            notes.append(f"  result: {json.dumps(response)}")
        print(f"{fn} {name} -> {status}" + (f"  FAILED: {'; '.join(wrong)}" if wrong else ""), flush=True)
        for note in notes:
            print(note, flush=True)
        slowest = max(slowest, seconds)
        if wrong:
            failed += 1
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            print(f"  --- last lines of sam local invoke (full log: {log_dir / f'{fn}-{name}.log'}):\n{tail}", flush=True)
    total = time.monotonic() - started
    print(f"sam local invoke: {len(steps) - failed} passed, {failed} failed "
          f"({len(steps)} fixtures, {len({s[2] for s in steps})} functions; {total:.0f}s, "
          f"{total / max(len(steps), 1):.1f}s each, slowest {slowest:.1f}s)")
    return 1 if failed else 0


def read_env_file(path):
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def is_connections_endpoint(template, value):
    """A variable the template builds as https://${<WebSocket API>}...: the @connections API
    a function pushes to, which moto serves as well."""
    text = value.get("Fn::Sub") if isinstance(value, dict) else None
    text = text[0] if isinstance(text, list) else text
    if not isinstance(text, str) or not text.startswith("https://"):
        return False
    return api_protocol(template, value) == "WEBSOCKET"


# Where the webhook fixtures of events/ are signed for (scripts/make-events's URL_HOST).
FIXTURE_FUNCTION_URL = "https://k2vbxr5ghqmzexample7uzvnve0vdqwe.lambda-url.us-east-1.on.aws"


def unresolvable_public_base_urls(template):
    """Per function, a PUBLIC_BASE_URL the SAM CLI cannot work out: an Fn::If that falls back
    to a Function URL's GetAtt reaches the function empty, and the SMS function refuses to start
    without one (it is where Twilio posts a sent text's status). Such a function gets the
    fixtures' Function URL instead."""
    out = {}
    for logical_id, fn in functions(template).items():
        variables = ((fn.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        value = variables.get("PUBLIC_BASE_URL")
        if isinstance(value, dict) and "Fn::If" in value:
            out[logical_id] = {"PUBLIC_BASE_URL": FIXTURE_FUNCTION_URL}
    return out


def cmd_settings(template_path, env_file, out_json, moto, *extra):
    """Parameter overrides and an --env-vars file that give the functions the development
    settings of ENV_FILE through the template's own wiring: a variable the template sets from
    a parameter (TWILIO_AUTH_TOKEN: !Ref TwilioAuthToken) gets it as that parameter; one it sets
    otherwise (TABLE_NAME: !Ref Table) through --env-vars, and so does a WebSocket API's
    @connections endpoint, pointed at moto. Prints the overrides."""
    template = load_template(template_path)
    params = template.get("Parameters") or {}
    envs = [((template.get("Globals") or {}).get("Function") or {}).get("Environment")]
    envs += [f.get("Properties", {}).get("Environment") for f in functions(template).values()]
    declared = {}
    for env in envs:
        for var, value in ((env or {}).get("Variables") or {}).items():
            declared[var] = value
    dev = read_env_file(env_file)
    overrides, env_vars = {}, {}
    for var, value in declared.items():
        if is_connections_endpoint(template, value):
            env_vars[var] = moto
            continue
        if var not in dev:
            continue
        if isinstance(value, dict) and value.get("Ref") in params:
            overrides[value["Ref"]] = dev[var]
        else:
            env_vars[var] = dev[var]
    if "SECRETS_ARN" in declared:
        arn = moto_secret(moto, {k: v for k, v in dev.items() if k in SECRET_NAMES})
        env_vars["SECRETS_ARN"] = arn
        overrides["SecretsArn"] = arn
    for item in extra:
        k, v = item.split("=", 1)
        overrides[k] = v
    by_function = unresolvable_public_base_urls(template)
    out = {"Parameters": env_vars, **by_function}
    pathlib.Path(out_json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"settings: parameters {', '.join(sorted(overrides))}; --env-vars {', '.join(sorted(env_vars))}",
          file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in sorted(overrides.items())))


# The settings the functions read from SECRETS_ARN's secret, never from the environment.
SECRET_NAMES = {"APP_JWT_SECRET", "TWILIO_API_KEY_SECRET", "TWILIO_AUTH_TOKEN",
                "TWILIO_AUTH_TOKEN_SECONDARY", "REALTIME_TICKET_SECRET"}


def secrets_client(endpoint):
    """moto's Secrets Manager."""
    import boto3
    return boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def moto_secret(endpoint, values):
    """A new secret in moto's Secrets Manager holding `values` as JSON; its ARN."""
    name = f"softphone-presence-sam-local-{int(time.time() * 1000)}"
    return secrets_client(endpoint).create_secret(Name=name, SecretString=json.dumps(values))["ARN"]


def secret_values(endpoint, arn):
    """The JSON object of the secret `arn` in moto's Secrets Manager."""
    return json.loads(secrets_client(endpoint).get_secret_value(SecretId=arn)["SecretString"])


def cmd_start_api_template(built, out):
    """The built template with its API Gateway v2 resources first, and nothing else changed.
    `sam local start-api` picks how to read a template's APIs from the first API-related
    resource it meets: an AWS::Serverless::Function first makes it look only for SAM Api and
    HttpApi events and find none in this template, which declares its HTTP API as
    AWS::ApiGatewayV2 resources. Resource order means nothing to CloudFormation."""
    template = yaml.safe_load(pathlib.Path(built).read_text())
    resources = template["Resources"]
    # The SAM CLI serves no WebSocket API and stops on a route key such as $connect: leave those
    # routes out (sam local invoke exercises them).
    websocket_routes = [k for k, v in resources.items()
                        if v.get("Type") in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::RouteResponse")
                        and api_protocol(template, (v.get("Properties") or {}).get("ApiId")) == "WEBSOCKET"]
    for k in websocket_routes:
        del resources[k]
    first = {k: v for k, v in resources.items() if str(v.get("Type", "")).startswith("AWS::ApiGatewayV2::")}
    template["Resources"] = {**first, **{k: v for k, v in resources.items() if k not in first}}
    pathlib.Path(out).write_text(yaml.safe_dump(template, sort_keys=False))
    if websocket_routes:
        print(f"start-api: without the WebSocket routes {', '.join(websocket_routes)}", file=sys.stderr)


ELF_MACHINE = {0xB7: "arm64", 0x3E: "x86_64"}
AL2023_GLIBC = (2, 34)


def cmd_bootstraps(template_path, build_dir):
    """Every function's built bootstrap: an ELF for the template's architecture that needs no
    glibc newer than Amazon Linux 2023's (the stand-in image's is Debian 12's 2.36, so it
    cannot tell)."""
    template = load_template(template_path)
    bad = 0
    for logical_id, fn in functions(template).items():
        path = pathlib.Path(build_dir) / logical_id / "bootstrap"
        if not path.is_file():
            print(f"{logical_id}: no {path}")
            bad += 1
            continue
        data = path.read_bytes()
        machine = ELF_MACHINE.get(int.from_bytes(data[18:20], "little"), "?") if data[:4] == b"\x7fELF" else "not ELF"
        versions = sorted({tuple(int(x) for x in m.split(b".")) for m in re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)", data)})
        newest = versions[-1] if versions else None
        want = architecture(template, fn)
        problems = []
        if machine != want:
            problems.append(f"is {machine}, the template says {want}")
        if newest and newest[:2] > AL2023_GLIBC:
            problems.append(f"needs GLIBC_{'.'.join(map(str, newest))}, newer than Amazon Linux 2023's 2.34")
        glibc = "GLIBC_" + ".".join(map(str, newest)) if newest else "no glibc"
        print(f"{logical_id}: {machine} bootstrap, {len(data) / 2**20:.2f} MiB, needs {glibc}"
              + (f"  FAILED: {'; '.join(problems)}" if problems else ""))
        bad += bool(problems)
    return 1 if bad else 0


def cmd_table_indexes(template_path, endpoint, table):
    """The table the operator command created in moto has every secondary index of the
    template's table, with the same keys."""
    import boto3
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    created = client.describe_table(TableName=table)["Table"]
    keys = lambda index: [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
    have = {i["IndexName"]: keys(i) for i in created.get("GlobalSecondaryIndexes") or []}
    want = {}
    for res in load_template(template_path)["Resources"].values():
        if res.get("Type") == "AWS::DynamoDB::Table":
            want.update({i["IndexName"]: keys(i) for i in res["Properties"].get("GlobalSecondaryIndexes") or []})
    wrong = [f"{name} {key}: the table has {have.get(name)}" for name, key in want.items() if have.get(name) != key]
    listed = ", ".join(f"{n} ({' + '.join(a for a, _ in k)})" for n, k in have.items()) or "none"
    print(f"table {table}: indexes {listed}" + (f"  FAILED: {'; '.join(wrong)}" if wrong else ""))
    return 1 if wrong else 0


def moto_item(endpoint, table, pk, sk):
    """The item at (pk, sk) as one line of its keys and presence attributes, or None."""
    import boto3
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    item = client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")
    if not item:
        return None
    flat = {k: next(iter(v.values())) for k, v in item.items()}
    keep = ["pk", "sk", "platform", "label", "lastSeen", "expiresAt", "ttlSeconds", "inbox", "activity"]
    return " ".join(f"{k}={flat[k]}" for k in keep if k in flat)


# ---------------------------------------------------------------------------------------------
# The stand-in base image.
# ---------------------------------------------------------------------------------------------
DEBIAN_ARCH = {"arm64": "arm64", "x86_64": "amd64"}


def _tarinfo(name, kind=tarfile.DIRTYPE, mode=0o755, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, linkname
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
    return info


def build_layer(debs_dir, ca_bundle):
    """The root file system as an uncompressed tar, built from the extracted packages."""
    entries = {}  # path -> (TarInfo, bytes or None)

    def add_dir(path, mode=0o755):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            entries.setdefault(p, (_tarinfo(p, mode=mode if i == len(parts) else 0o755), None))

    for deb in sorted(pathlib.Path(debs_dir).glob("*.deb")):
        data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                name = m.name[2:] if m.name.startswith("./") else m.name
                # Only the shared libraries (lib/, lib64/) and busybox: no documentation, locales
                # or gconv modules.
                if not (name.startswith(("lib/", "lib64/")) or name == "bin/busybox"):
                    continue
                if m.isdir():
                    add_dir(name)
                    continue
                add_dir(os.path.dirname(name))
                info = _tarinfo(name, m.type, m.mode, m.size, m.linkname)
                entries[name] = (info, tar.extractfile(m).read() if m.isfile() else None)
    # A shell and the few commands SAM's image build runs (mv, chmod; cp and rm for layers).
    for tool in ["sh", "mv", "chmod", "cp", "rm", "mkdir", "ls", "cat", "env"]:
        entries[f"bin/{tool}"] = (_tarinfo(f"bin/{tool}", tarfile.SYMTYPE, 0o777, linkname="busybox"), None)
    # Amazon Linux 2023's CA bundle location, and /etc/ssl/certs pointing at it as there.
    ca = pathlib.Path(ca_bundle).read_bytes()
    add_dir("etc/pki/tls/certs")
    entries["etc/pki/tls/certs/ca-bundle.crt"] = (_tarinfo("etc/pki/tls/certs/ca-bundle.crt", tarfile.REGTYPE, 0o644, len(ca)), ca)
    add_dir("etc/ssl")
    entries["etc/ssl/certs"] = (_tarinfo("etc/ssl/certs", tarfile.SYMTYPE, 0o777, linkname="../pki/tls/certs"), None)
    entries["etc/pki/tls/cert.pem"] = (_tarinfo("etc/pki/tls/cert.pem", tarfile.SYMTYPE, 0o777, linkname="certs/ca-bundle.crt"), None)
    for d in ["var/task", "var/runtime", "var/rapid", "opt"]:
        add_dir(d)
    add_dir("tmp", 0o1777)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(entries):
            info, content = entries[name]
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return out.getvalue()


def cmd_image(arch, debs_dir, ca_bundle, out_tar, endpoint):
    layer = build_layer(debs_dir, ca_bundle)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    # What the provided.al2023 image sets that a bootstrap may read.
    env = ["PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG=en_US.UTF-8", "TZ=:/etc/localtime",
           "LD_LIBRARY_PATH=/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
           "LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"]
    images = [("softphone-presence/al2023-standin", env, "a local stand-in for public.ecr.aws/lambda/provided:al2023"),
              ("softphone-presence/sam-local", env + [f"AWS_ENDPOINT_URL_DYNAMODB={endpoint}",
                                                       f"AWS_ENDPOINT_URL_SECRETS_MANAGER={endpoint}"],
               "the stand-in, with the functions' DynamoDB and Secrets Manager pointing at moto")]
    manifest, files = [], {"layer.tar": layer}
    for repo, image_env, comment in images:
        config = {
            "architecture": DEBIAN_ARCH[arch], "os": "linux", "created": "1970-01-01T00:00:00Z",
            "config": {"Env": image_env, "WorkingDir": "/var/task"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"scripts/sam-local: {comment}"}],
        }
        if arch == "arm64":
            config["variant"] = "v8"
        blob = json.dumps(config, sort_keys=True).encode()
        name = hashlib.sha256(blob).hexdigest() + ".json"
        files[name] = blob
        manifest.append({"Config": name, "RepoTags": [f"{repo}:{arch}"], "Layers": ["layer.tar"]})
    files["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(out_tar, "w") as tar:
        for name, blob in files.items():
            tar.addfile(_tarinfo(name, tarfile.REGTYPE, 0o644, len(blob)), io.BytesIO(blob))
    gz = len(gzip.compress(layer, 6))
    print(f"stand-in image: {len(layer) / 2**20:.1f} MiB ({gz / 2**20:.1f} MiB gzipped), "
          f"{sum(1 for _ in tarfile.open(fileobj=io.BytesIO(layer)))} entries, {arch}")


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "image" and len(args) == 5:
        cmd_image(*args)
        return 0
    if cmd == "functions" and len(args) == 1:
        cmd_functions(*args)
        return 0
    if cmd == "plan" and len(args) == 2:
        return cmd_plan(*args)
    if cmd == "invoke" and len(args) == 9:
        return cmd_invoke(*args)
    if cmd == "settings" and len(args) >= 4:
        cmd_settings(*args)
        return 0
    if cmd == "start-api-template" and len(args) == 2:
        cmd_start_api_template(*args)
        return 0
    if cmd == "bootstraps" and len(args) == 2:
        return cmd_bootstraps(*args)
    if cmd == "table-indexes" and len(args) == 3:
        return cmd_table_indexes(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
