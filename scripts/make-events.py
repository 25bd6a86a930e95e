#!/usr/bin/env python3
"""Regenerate events/: Lambda request fixtures as API Gateway (HTTP API, payload 2.0) and
Lambda Function URLs deliver them, for `cargo lambda invoke --data-file`, `sam local invoke
--event` and tests/api/events.rs (which runs every file here, so none can rot).

App requests carry an HS256 app JWT signed with the local server's development secret and
valid until 2100; webhooks carry an X-Twilio-Signature made with its development auth token.
Standard library only. Run: python3 scripts/make-events.py
"""

import base64
import hashlib
import hmac
import json
import pathlib
import urllib.parse

# The development defaults of shared/src/local.rs.
APP_JWT_SECRET = "dev-only-app-jwt-secret-never-deploy"
TWILIO_AUTH_TOKEN = "dev-only-twilio-auth-token"
TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
TWILIO_TWIML_APP_SID = "AP00000000000000000000000000000000"
REALTIME_TICKET_SECRET = "dev-only-realtime-ticket-secret-never-deploy"
REALTIME_HOST = "rt123abcde.execute-api.us-east-1.amazonaws.com"

API_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
URL_HOST = "k2vbxr5ghqmzexample7uzvnve0vdqwe.lambda-url.us-east-1.on.aws"
TIME = ("20/Nov/2026:12:00:00 +0000", 1795262400000)
OUT = pathlib.Path(__file__).resolve().parent.parent / "events"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def app_jwt(email: str, org: str, secret: str = APP_JWT_SECRET) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": email, "email": email, "orgId": org, "iat": 1795262400, "exp": 4102444800}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def realtime_ticket(device: str, email_identity: str = "u_org_5Fdemo__alice_40example_2Ecom", org: str = "org_demo") -> str:
    """A realtime ticket as POST /phone/events/ticket issues them, but valid until 2100, so the
    fixture keeps working (a real one lasts a minute). A ticket opens one connection: its `jti`
    is spent by the first $connect on a table."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    claims = {"iss": "softphone-presence", "aud": "softphone-presence/realtime", "sub": email_identity,
              "org": org, "dev": device, "caps": ["sms", "voice"], "iat": 1795262400, "exp": 4102444800,
              "jti": f"fixture{device.replace('_', '')}"}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(REALTIME_TICKET_SECRET.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def websocket(route, connection_id, headers=None, body=None):
    """An API Gateway WebSocket event of the realtime API (Lambda proxy integration)."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    context = {"routeKey": route, "eventType": event_type, "connectionId": connection_id,
               "domainName": REALTIME_HOST, "stage": "live", "apiId": REALTIME_HOST.split(".")[0],
               "connectedAt": TIME[1], "requestTimeEpoch": TIME[1], "requestTime": TIME[0],
               "requestId": f"rt-{event_type.lower()}", "messageDirection": "IN",
               "extendedRequestId": f"rt-{event_type.lower()}", "identity": {"sourceIp": "203.0.113.10"}}
    if event_type == "DISCONNECT":
        context["disconnectStatusCode"] = 1001
        context["disconnectReason"] = "Going away"
    out = {"requestContext": context, "isBase64Encoded": False}
    if headers is not None:
        out["headers"] = {"Host": REALTIME_HOST, **headers}
    if body is not None:
        out["body"] = body
    return out


def stream_batch():
    """What the table's stream hands realtime-push: a new event of Alice's log, and (filtered
    out in AWS, skipped if it comes) a device's change."""
    pk = {"S": "softphone:org_demo:u_org_5Fdemo__alice_40example_2Ecom"}
    event_image = {"pk": pk, "sk": {"S": "~evt:000662d2fa000000a1b2"}, "type": {"S": "devices.changed"},
                   "at": {"N": str(TIME[1])}, "data": {"S": '{"deviceId":"dev_phone","change":"registered"}'},
                   "expiresAt": {"N": str(TIME[1] // 1000 + 604800)}}
    device_image = {"pk": pk, "sk": {"S": "dev_phone"}, "userEmail": {"S": "alice@example.com"},
                    "platform": {"S": "ios"}, "capabilities": {"SS": ["voice"]},
                    "lastSeen": {"N": str(TIME[1])}, "expiresAt": {"N": str(TIME[1] // 1000 + 90)},
                    "ttlSeconds": {"N": "90"}, "registrationId": {"S": "0123456789abcdef01234567"}}
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/softphone-presence/stream/2026-11-20T12:00:00.000"

    def record(n, image):
        keys = {"pk": image["pk"], "sk": image["sk"]}
        return {"eventID": f"e{n}", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1", "eventSourceARN": arn,
                "dynamodb": {"ApproximateCreationDateTime": TIME[1] // 1000, "Keys": keys, "NewImage": image,
                             "SequenceNumber": f"11000000000000000000{n:02d}", "SizeBytes": 256,
                             "StreamViewType": "NEW_IMAGE"}}
    return {"Records": [record(1, device_image), record(2, event_image)]}


def twilio_signature(url: str, params: list) -> str:
    payload = url + "".join(k + v for k, v in sorted(set(params)))
    digest = hmac.new(TWILIO_AUTH_TOKEN.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def event(method, host, path, headers, body=None, base64_body=False, stage="$default",
          api_id="abc123defg", account="123456789012", authorizer=None, source_ip="203.0.113.10",
          user_agent="Mozilla/5.0 (Macintosh) Chrome/131.0", query=""):
    headers = {"host": host, "x-forwarded-proto": "https", "x-forwarded-port": "443",
               "user-agent": user_agent, **headers}
    context = {
        "accountId": account, "apiId": api_id, "domainName": host, "domainPrefix": host.split(".")[0],
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                 "userAgent": user_agent},
        "requestId": f"req-{path.strip('/').replace('/', '-')}", "routeKey": f"{method} {path}",
        "stage": stage, "time": TIME[0], "timeEpoch": TIME[1],
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    out = {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": query,
           "headers": headers, "requestContext": context, "isBase64Encoded": base64_body}
    if query:
        out["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    if body is not None:
        out["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    return out


def app_request(method, path, body=None, email="alice@example.com", org="org_demo", secret=APP_JWT_SECRET,
                query=""):
    headers = {"authorization": f"Bearer {app_jwt(email, org, secret)}"}
    if body is not None:
        headers["content-type"] = "application/json"
        body = json.dumps(body)
    return event(method, API_HOST, path, headers, body, query=query)


def with_path_parameter(out, route_path):
    """An HTTP API event of a route with one path parameter, as API Gateway sends it: the
    route's key names the parameter, and pathParameters holds its value."""
    method = out["requestContext"]["http"]["method"]
    name = route_path.rsplit("{", 1)[1].rstrip("}")
    out["routeKey"] = out["requestContext"]["routeKey"] = f"{method} {route_path}"
    out["pathParameters"] = {name: out["rawPath"].rsplit("/", 1)[1]}
    return out


def call_params(to, extra=()):
    return [("AccountSid", TWILIO_ACCOUNT_SID), ("ApiVersion", "2010-04-01"),
            ("CallSid", "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10"), ("CallStatus", "ringing"),
            ("Called", to), ("Caller", "+14158675309"), ("Direction", "inbound"),
            ("From", "+14158675309"), ("FromCity", "SAN FRANCISCO"), ("To", to), *extra]


def webhook(host, path, params, signature=None, via="url", query=""):
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    body = urllib.parse.urlencode(params)
    headers = {"content-type": "application/x-www-form-urlencoded",
               "x-twilio-signature": signature or twilio_signature(url, params),
               "i-twilio-idempotency-token": "3f1c6e2a-0000-4000-8000-000000000001"}
    if via == "url":
        out = event("POST", host, path, headers, body, base64_body=True, api_id=host.split(".")[0],
                    account="anonymous", source_ip="54.172.60.2", user_agent="TwilioProxy/1.1")
        # Function URLs have no routes.
        out["routeKey"] = out["requestContext"]["routeKey"] = "$default"
        out["rawQueryString"] = query
        return out
    return event("POST", host, path, headers, body, base64_body=True, source_ip="54.172.60.2",
                 user_agent="TwilioProxy/1.1")


def outgoing_params(to, extra=()):
    """What Twilio posts to the TwiML App's Voice URL when Alice's softphone calls `to`."""
    caller = "client:u_org_5Fdemo__alice_40example_2Ecom"
    return [("AccountSid", TWILIO_ACCOUNT_SID), ("ApiVersion", "2010-04-01"),
            ("ApplicationSid", TWILIO_TWIML_APP_SID), ("CallSid", "CA7a6b5c4d3e2f10ab9c8d7e6f5a4b3c2d"),
            ("CallStatus", "ringing"), ("Caller", caller), ("Direction", "inbound"),
            ("From", caller), ("To", to), *extra]


def call_progress(status, sequence):
    """A call-progress callback of the leg that rang Alice, as Twilio posts it."""
    return [("AccountSid", TWILIO_ACCOUNT_SID), ("ApiVersion", "2010-04-01"),
            ("CallSid", "CA0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"), ("CallStatus", status),
            ("CallbackSource", "call-progress-events"), ("Direction", "outbound-dial"),
            ("From", "+14158675309"), ("ParentCallSid", "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10"),
            ("SequenceNumber", str(sequence)), ("Timestamp", "Fri, 20 Nov 2026 12:00:05 +0000"),
            ("To", "client:u_org_5Fdemo__alice_40example_2Ecom")]


def sms_params(to, body, sid="SM7c1b0d9a8e2f4c3b6a5d4e3f2a1b0c9d", extra=()):
    """What Twilio posts to a number's Messaging webhook for a text from a customer."""
    return [("AccountSid", TWILIO_ACCOUNT_SID), ("ApiVersion", "2010-04-01"), ("Body", body),
            ("From", "+14155550199"), ("FromCountry", "US"), ("MessageSid", sid),
            ("NumMedia", "0"), ("NumSegments", "1"), ("SmsMessageSid", sid), ("SmsSid", sid),
            ("SmsStatus", "received"), ("To", to), ("ToCountry", "US"), *extra]


def scheduled_event():
    """What EventBridge Scheduler delivers to the reconciler."""
    return {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": TIME[0], "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/softphone-presence-SmsReconcile"],
            "detail": {}}


def main():
    device = {"deviceId": "dev_a1b2c3", "platform": "web", "label": "Chrome on MacBook",
              "capabilities": ["voice", "sms"]}
    gateway_claims = {"jwt": {"claims": {"sub": "bob", "email": "bob@example.com", "orgId": "org_demo",
                                         "iss": "https://auth.example.com/", "aud": "softphone"},
                              "scopes": None}}
    register_gateway = event("POST", API_HOST, "/phone/voice/register-device",
                             {"authorization": "Bearer (verified by the API Gateway authorizer)",
                              "content-type": "application/json"},
                             json.dumps({"deviceId": "bob_iphone", "platform": "ios", "label": "Bob's iPhone"}),
                             authorizer=gateway_claims, user_agent="SoftphoneApp/2.3 (iPhone; iOS 18.1)")
    fixtures = {
        "register-device.json": app_request("POST", "/phone/voice/register-device", device),
        "register-device-gateway-authorizer.json": register_gateway,
        "heartbeat.json": app_request("POST", "/phone/voice/heartbeat", {"deviceId": "dev_a1b2c3"}),
        "list-devices.json": app_request("GET", "/phone/voice/devices"),
        "user-phones.json": app_request("GET", "/phone/user-phones"),
        # Well-formed and unexpired, but signed with another secret: 401 unauthorized.
        "list-devices-bad-jwt.json": app_request("GET", "/phone/voice/devices", secret="not-the-development-secret"),
        "unregister-device.json": app_request("POST", "/phone/voice/unregister-device", {"deviceId": "dev_a1b2c3"}),
        "voice-incoming-function-url.json": webhook(URL_HOST, "/phone/voice/incoming", call_params("+14155551234")),
        "voice-incoming-http-api.json": webhook(API_HOST, "/phone/voice/incoming", call_params("+14155550001"), via="api"),
        "voice-incoming-bad-signature.json": webhook(URL_HOST, "/phone/voice/incoming", call_params("+14155551234"),
                                                     signature="bm90IGEgdHdpbGlvIHNpZ25hdHVyZQ=="),
        "dial-status-no-answer-function-url.json": webhook(
            URL_HOST, "/phone/voice/dial-status",
            call_params("+14155551234", [("DialCallStatus", "no-answer"), ("DialCallSid", "CA00000000000000000000000000000001"),
                                         ("DialCallDuration", "0")])),
        "voice-outgoing-function-url.json": webhook(
            URL_HOST, "/phone/voice/outgoing", outgoing_params("+14155559999", [("callerId", "+14155551234")])),
        "call-status-answered-function-url.json": webhook(
            URL_HOST, "/phone/voice/call-status", call_progress("in-progress", 1),
            query="org=org_demo&identity=u_org_5Fdemo__alice_40example_2Ecom"),
        "call-status-completed-function-url.json": webhook(
            URL_HOST, "/phone/voice/call-status", call_progress("completed", 2) + [("CallDuration", "42")],
            query="org=org_demo&identity=u_org_5Fdemo__alice_40example_2Ecom"),
        "voice-fallback-function-url.json": webhook(
            URL_HOST, "/phone/voice/fallback",
            call_params("+14155551234", [("ErrorCode", "11200"), ("ErrorUrl", f"https://{URL_HOST}/phone/voice/incoming")])),
        "events-catch-up.json": app_request("GET", "/phone/events"),
        # A cursor from 2020: older than any retention, 410 cursor_expired.
        "events-expired-cursor.json": app_request("GET", "/phone/events", query="after=0005a1b2c3d4e5f60000"),
        "events-ticket.json": app_request("POST", "/phone/events/ticket", {"deviceId": "dev_a1b2c3"}),
        "realtime-connect.json": websocket(
            "$connect", "Jk1cXdwKoAMCEfw=",
            {"Sec-WebSocket-Protocol": f"softphone-presence.v1, {realtime_ticket('dev_a1b2c3')}",
             "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}),
        "realtime-connect-bad-ticket.json": websocket(
            "$connect", "Jk1cXdwKoAMCEfx=",
            {"Sec-WebSocket-Protocol": "softphone-presence.v1, not.a.ticket",
             "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}),
        "realtime-ping.json": websocket("$default", "Jk1cXdwKoAMCEfw=", body='{"type":"ping"}'),
        "realtime-disconnect.json": websocket("$disconnect", "Jk1cXdwKoAMCEfw=", {}),
        "realtime-push-stream.json": stream_batch(),
        # The SMS inbox: a customer texts Sales (Alice and Bob), Alice lists, reads and replies.
        "sms-incoming-function-url.json": webhook(
            URL_HOST, "/phone/sms/incoming", sms_params("+14155551234", "Is the blue one in stock?")),
        "sms-conversations.json": app_request("GET", "/phone/sms/conversations"),
        "sms-messages.json": app_request("GET", "/phone/sms/messages",
                                         query="phoneId=phone-sales&with=%2B14155550199&limit=20"),
        "sms-read.json": app_request("POST", "/phone/sms/read",
                                     {"phoneId": "phone-sales", "with": "+14155550199",
                                      "upTo": "SM7c1b0d9a8e2f4c3b6a5d4e3f2a1b0c9d"}),
        # The text has no media: 404 not_found.
        "sms-media-not-found.json": app_request("GET", "/phone/sms/media",
                                                query="messageSid=SM7c1b0d9a8e2f4c3b6a5d4e3f2a1b0c9d&index=0"),
        # Twilio's REST API cannot be reached: 503 twilio_unavailable, nothing stored.
        "sms-send-twilio-unreachable.json": app_request(
            "POST", "/phone/sms/send",
            {"phoneId": "phone-sales", "to": "+14155550199", "body": "Yes, in stock.", "clientMessageId": "c0ffee-1"}),
        "sms-status-function-url.json": webhook(
            URL_HOST, "/phone/sms/status",
            [("AccountSid", TWILIO_ACCOUNT_SID), ("ApiVersion", "2010-04-01"), ("From", "+14155551234"),
             ("MessageSid", "SM0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"), ("MessageStatus", "delivered"),
             ("SmsSid", "SM0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"), ("SmsStatus", "delivered"), ("To", "+14155550199")]),
        "sms-fallback-function-url.json": webhook(
            URL_HOST, "/phone/sms/fallback",
            sms_params("+14155551235", "Help!", sid="SM1f2e3d4c5b6a79880716253443526170",
                       extra=[("ErrorCode", "11200"), ("ErrorUrl", f"https://{URL_HOST}/phone/sms/incoming")])),
        "sms-reconcile-schedule.json": scheduled_event(),
        # Call history: a voicemail left on Sales (Alice and Bob) is in Alice's recent calls;
        # she marks it seen; playing it needs Twilio's REST API (unreachable: 503); another
        # recording is none of hers (404). The query is the call's reference, as the
        # service's <Record recordingStatusCallback> carries it (started 2026-11-21), with the
        # call's From and To, which Twilio's recording callbacks lack.
        "recording-status-function-url.json": webhook(
            URL_HOST, "/phone/voice/recording-status",
            [("AccountSid", TWILIO_ACCOUNT_SID), ("CallSid", "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10"),
             ("RecordingSid", "RE1a2b3c4d5e6f708192a3b4c5d6e7f809"), ("RecordingStatus", "completed"),
             ("RecordingDuration", "17"), ("RecordingChannels", "1"), ("RecordingSource", "RecordVerb"),
             ("RecordingUrl", f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}"
                              "/Recordings/RE1a2b3c4d5e6f708192a3b4c5d6e7f809")],
            query="ho=org_demo&hk=n&hs=1795262400000&hn=%2B14155551234&hf=%2B14158675309&ht=%2B14155551234"),
        "calls-history.json": app_request("GET", "/phone/calls", query="limit=20"),
        "calls-seen.json": app_request("POST", "/phone/calls/seen",
                                       {"upTo": "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10"}),
        "voicemail-twilio-unreachable.json": with_path_parameter(app_request(
            "GET", "/phone/voicemail/RE1a2b3c4d5e6f708192a3b4c5d6e7f809"), "/phone/voicemail/{recordingSid}"),
        "voicemail-not-found.json": with_path_parameter(app_request(
            "DELETE", "/phone/voicemail/RE00000000000000000000000000000000"), "/phone/voicemail/{recordingSid}"),
        "dial-status-completed-function-url.json": webhook(
            URL_HOST, "/phone/voice/dial-status",
            call_params("+14155551234", [("DialCallStatus", "completed"), ("DialCallSid", "CA00000000000000000000000000000001"),
                                         ("DialCallDuration", "42")])),
    }
    OUT.mkdir(exist_ok=True)
    for name, content in fixtures.items():
        (OUT / name).write_text(json.dumps(content, indent=2) + "\n")
    print(f"wrote {len(fixtures)} fixtures to {OUT}")


if __name__ == "__main__":
    main()
