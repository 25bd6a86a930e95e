"""Which fixture of events/ goes to which function, in which lane and order, with which checks."""

import fnmatch
import json
import pathlib
import re
import sys

from .template import binary, functions, functions_with_event, mapping_targets, route_matches, routes

# ---------------------------------------------------------------------------------------------
# Expected answers. Status, body shape and run order are derived from a fixture's name and kind
# (app route: a JSON object; Twilio webhook: 200 TwiML, text/xml). This table only orders the
# fixtures into a story (register -> heartbeat -> list shows the device stored in moto; the
# call webhooks and the SMS inbox while Alice is live; unregister last), adds content checks
# (on the answer, in moto, and the requests the fake Twilio got), and gives the function a
# setting the fixture needs. A fixture it does not name runs after the named ones with the
# derived checks alone. First match wins.
#
# Lanes: `first` runs before everything (Alice's device, which the rest needs live), `last`
# after everything; the lanes between run at the same time, each in its order, so a fixture
# that reads what another wrote must share its lane (the call webhooks write the history the
# calls fixtures read; the SMS fixtures read the text sms-incoming stores). Each invocation
# gets a fake Twilio of its own, so its `twilio` checks count its own requests only.
# ---------------------------------------------------------------------------------------------
ALICE = "u_org_5Fdemo__alice_40example_2Ecom"
EXPECT = [
    # (pattern, lane, order in the lane, settings for this invocation, checks on the answer)
    ("register-device.json", "first", 10, {}, [("json", "identity", ALICE), ("json", "device.deviceId", "dev_a1b2c3")]),
    ("heartbeat.json", "devices", 20, {}, []),
    ("list-devices.json", "devices", 30, {}, [("json-contains", "devices[].deviceId", "dev_a1b2c3"),
                                   ("moto", f"softphone:org_demo:{ALICE}", "dev_a1b2c3")]),
    ("user-phones.json", "devices", 40, {}, [("json-len", "assignedPhones", 2)]),
    # The realtime channel while Alice's device is live: a ticket, the event log, then the
    # WebSocket connect, ping, a stream batch pushed to the connection, and disconnect.
    ("events-ticket.json", "realtime", 41, {}, [("json", "expiresIn", 60)]),
    ("events-catch-up.json", "realtime", 42, {}, [("json-type", "events", list)]),
    ("events-expired-cursor.json", "realtime", 43, {}, [("status", 410), ("json", "error.code", "cursor_expired")]),
    ("realtime-connect-bad-ticket.json", "realtime", 44, {}, []),
    ("realtime-connect.json", "realtime", 45, {}, [("header", "sec-websocket-protocol", "softphone-presence.v1")]),
    ("realtime-ping.json", "realtime", 46, {}, [("json", "type", "pong")]),
    ("realtime-push-stream.json", "realtime", 47, {}, []),
    # Alerts: no provider is configured here (no key in the local settings), so the text in
    # Alice's log is read and nothing is sent; the batch has no failure.
    ("alerts-stream.json", "realtime", 47.2, {}, [("json-len", "batchItemFailures", 0)]),
    # The team presence sweep's schedule: nobody subscribed here, so no org to look at.
    ("realtime-push-sweep-schedule.json", "realtime", 47.5, {}, [("json", "orgs", 0), ("json", "people", 0)]),
    # After the sweep (which then finds no watched org): Alice subscribes to Sales' presence;
    # her disconnect below drops the subscription.
    ("realtime-subscribe.json", "realtime", 47.6, {}, [("json", "type", "subscribed"), ("json", "team", "grp-sales"),
                                                       ("moto", "teams", "org_demo")]),
    ("realtime-disconnect.json", "realtime", 48, {}, []),
    # People presence while Alice is live: she sets "away" (still rung, so the call fixtures
    # beside these ring her as before), reads it back, and sees herself in her org's team.
    # Not `effective`: the call lane, at the same time, puts her on a call and off it again.
    ("presence-status-set.json", "devices", 42, {}, [("json", "status", "away"),
                                               ("json", "note", "At the fixture"),
                                               ("moto", f"softphone:org_demo:{ALICE}", "#person")]),
    ("presence-status.json", "devices", 43, {}, [("json", "status", "away")]),
    ("team.json", "devices", 44, {}, [("json-contains", "people[].email", "alice@example.com")]),
    ("team-unknown-group.json", "devices", 45, {}, [("status", 404), ("json", "error.code", "not_found")]),
    # The admin API (AppJwtAdminClaim=roles, AppJwtAdminValue=phone-admin, the development
    # defaults): Erin reads the org, creates Frank (no number of anyone's changes), a stale
    # ETag writes nothing, the audit log has Frank's creation; Alice, no admin, gets 403.
    ("admin-directory.json", "admin", 46, {}, [("json", "orgId", "org_demo"),
                                             ("header", "etag", '"v1"')]),
    ("admin-user-create.json", "admin", 46.1, {}, [("status", 201), ("json", "name", "Frank Fisher"),
                                                 ("moto", "org:org_demo", "user:frank@example.com")]),
    ("admin-group-stale.json", "admin", 46.2, {}, [("status", 412), ("json", "error.code", "precondition_failed")]),
    ("admin-audit.json", "admin", 46.3, {}, [("json-contains", "entries[].action", "user.created")]),
    ("admin-forbidden.json", "admin", 46.4, {}, [("status", 403), ("json", "error.code", "forbidden")]),
    # The gateway fixture carries claims an API Gateway JWT authorizer verified (AuthMode=gateway).
    ("register-device-gateway-authorizer.json", "devices", 50, {"AUTH_MODE": "gateway"},
     [("json", "identity", "u_org_5Fdemo__bob_40example_2Ecom")]),
    # Bob's second phone beyond a limit of one: his iPhone is evicted, his Pixel stored.
    ("register-device-evicts.json", "devices", 51, {"MAX_DEVICES_PER_IDENTITY": "1"},
     [("json", "device.deviceId", "bob_pixel"),
      ("moto", "softphone:org_demo:u_org_5Fdemo__bob_40example_2Ecom", "bob_pixel"),
      ("moto-absent", "softphone:org_demo:u_org_5Fdemo__bob_40example_2Ecom", "bob_iphone")]),
    ("voice-incoming-function-url.json", "calls", 60, {}, [("text", f"<Identity>{ALICE}</Identity>")]),
    ("voice-incoming-http-api.json", "calls", 61, {}, [("text", '<Parameter name="phoneId" value="phone-alice"/>')]),
    ("voice-outgoing-function-url.json", "calls", 62, {}, [("text", ">+14155559999</Number>")]),
    ("call-status-answered-function-url.json", "calls", 63, {}, []),
    ("call-status-completed-function-url.json", "calls", 64, {}, []),
    ("dial-status-no-answer-function-url.json", "calls", 65, {}, [("text", "<Record")]),
    ("dial-status-completed-function-url.json", "calls", 66, {}, [("text", "<Hangup/>")]),
    ("voice-fallback-function-url.json", "calls", 67, {}, [("text", "<Record")]),
    # Routing policies: the Night line keeps no hours (closed at any hour: its whenClosed,
    # nobody rung); the end of a step of a call to Support begun on 2026-11-21, past its ring
    # timeout: Support's fallback, and Carol's history says the step rang her.
    ("voice-incoming-closed-function-url.json", "calls", 67.1, {},
     [("text", "<Say>We are closed. Please call again during office hours.</Say><Hangup/>")]),
    ("dial-status-step-function-url.json", "calls", 67.2, {"CALL_HISTORY_RETENTION_DAYS": "3650"},
     [("text", '<Stream url="wss://assistant.example.com/stream"'),
      ("moto", "softphone:org_demo:u_org_5Fdemo__carol_40example_2Ecom",
       "~hist:000001a1fdfa4600:CA7e3b9d1f5a2c4e6b8d0f1a3c5e7b9d2f")]),
    # The SMS inbox while Alice is live: a customer texts Sales (Alice and Bob), Alice lists,
    # reads, finds no media, and cannot reply while Twilio's REST API is unreachable (nothing
    # listens on port 9 of the container; the fake Twilio sees no request), then replies through
    # the fake Twilio (stored, with its pointer); a status callback
    # for a text not stored; the fallback of a number this cold process has not seen forwards
    # nothing; the reconciler lists each demo number from the fake Twilio and finds nothing.
    ("sms-incoming-function-url.json", "sms", 70, {}, [("text-end", "<Response></Response>"),
                                                ("moto", "smsid:SM7c1b0d9a8e2f4c3b6a5d4e3f2a1b0c9d", "msg"),
                                                ("moto", "sms:org_demo:phone-sales", "conv:+14155550199")]),
    ("sms-conversations.json", "sms", 71, {}, [("json", "conversations[].with", "+14155550199"),
                                        ("json", "conversations[].unread", 1)]),
    ("sms-messages.json", "sms", 72, {}, [("json", "messages[].body", "Is the blue one in stock?")]),
    ("sms-read.json", "sms", 73, {}, [("json", "unread", 0)]),
    ("sms-media-not-found.json", "sms", 74, {}, [("status", 404), ("json", "error.code", "not_found")]),
    ("sms-send-twilio-unreachable.json", "sms", 75, {"TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
     [("status", 503), ("json", "error.code", "twilio_unavailable"), ("twilio", "*", 0),
      ("moto-absent", f"softphone:org_demo:{ALICE}", "~smssend:c0ffee-1")]),
    ("sms-send.json", "sms", 75.5, {}, [("json", "messageSid", "SM5e0d1c2b3a4958677685a4b3c2d1e0f9"),
                                        ("twilio", "POST /2010-04-01/Accounts/*/Messages.json", 1),
                                        ("moto", "smsid:SM5e0d1c2b3a4958677685a4b3c2d1e0f9", "msg")]),
    ("sms-status-function-url.json", "sms", 76, {}, [("text-end", "<Response></Response>")]),
    ("sms-fallback-function-url.json", "sms", 77, {}, [("text-end", "<Response></Response>")]),
    ("sms-reconcile-schedule.json", "sms", 78, {}, [("json", "numbers", 5), ("json", "listed", 0),
                                             ("json", "recovered", 0), ("json", "failed", []),
                                             ("twilio", "GET /2010-04-01/Accounts/*/Messages.json", 5)]),
    # Call history: a voicemail left on Sales (a completed recording's callback, the call's
    # reference in its query; the longest retention, since the fixture's call is of
    # 2026-11-21) is in Alice's recent calls; she marks it seen; playing it reaches for
    # Twilio's REST API (unreachable, so she may play it); another recording is none of hers.
    ("recording-status-function-url.json", "calls", 78.1, {"CALL_HISTORY_RETENTION_DAYS": "3650"},
     [("text-end", "<Response></Response>"),
      ("moto", "voicemail:RE1a2b3c4d5e6f708192a3b4c5d6e7f809", "vm")]),
    ("calls-history.json", "calls", 78.2, {}, [("json", "calls[].outcome", "voicemail"), ("json", "unseenMissed", 1)]),
    ("calls-seen.json", "calls", 78.3, {}, [("json", "upTo", "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10")]),
    ("voicemail-twilio-unreachable.json", "calls", 78.4, {"TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
     [("status", 503), ("json", "error.code", "twilio_unavailable")]),
    ("voicemail-not-found.json", "calls", 78.5, {}, [("status", 404), ("json", "error.code", "not_found")]),
    ("*bad-signature*", "devices", 80, {}, []),
    ("*bad-jwt*", "devices", 81, {}, []),
    ("*unauthorized*", "devices", 82, {}, []),
    ("unregister-device.json", "last", 90, {}, [("json", "removed", True)]),
]
UNLISTED = ("unlisted", 79)
FIRST, LAST = "first", "last"


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
    for pattern, lane, order, settings, checks in EXPECT:
        if fnmatch.fnmatch(name, pattern):
            return lane, order, settings, checks
    return *UNLISTED, {}, []


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


def plan(template, events_dir):
    """[(order, fixture, function, settings, checks, kind, lane)] and a list of problems."""
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
        lane, order, settings, checks = expectation(path.name)
        out.append((order, path.name, found.pop(), settings, checks, kind, lane))
    covered = {p[2] for p in out}
    for fn in sorted(set(fns) - covered):
        problems.append(f"{fn}: no fixture in {events_dir}/ maps to it")
    out.sort(key=lambda p: (p[0], p[1]))
    return out, problems


def lanes(steps):
    """The steps as [first lane], [the lanes that run at the same time], [last lane]."""
    by_lane = {}
    for step in steps:
        by_lane.setdefault(step[6], []).append(step)
    middle = [by_lane[lane] for lane in sorted(by_lane) if lane not in (FIRST, LAST)]
    return by_lane.get(FIRST, []), middle, by_lane.get(LAST, [])


def cmd_plan(template_path, events_dir):
    from .template import load_template
    steps, problems = plan(load_template(template_path), events_dir)
    for order, name, fn, settings, checks, kind, lane in steps:
        extra = ", ".join(f"{k}={v}" for k, v in settings.items())
        print(f"{fn} {name} ({kind}, lane {lane}{', ' + extra if extra else ''})")
    for p in problems:
        print(f"sam-local: {p}", file=sys.stderr)
    return 1 if problems else 0
