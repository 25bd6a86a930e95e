"""Schemathesis hooks for scripts/fuzz-api: sign Twilio webhooks as Twilio does.

For every webhook case that carries an X-Twilio-Signature header (schemathesis leaves it out
when it tests what happens without auth), set AccountSid to the server's account and replace
the header with the real signature (Twilio's algorithm, shared/src/twilio/signature.rs): base64 HMAC-SHA1, keyed
with the auth token, of the full URL followed by every form parameter sorted by name, each
as name + value (a repeated name's distinct values sorted). GET webhooks sign the URL alone.
"""

import base64
import hashlib
import hmac
import os
import re
import urllib.parse

import requests
import schemathesis

AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "dev-only-twilio-auth-token")
ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
BASE_URL = os.environ["FUZZ_BASE_URL"]
HEADER = "X-Twilio-Signature"
ACCOUNT_SID_FORM = re.compile(r"AC[0-9a-fA-F]{32}")
TWIML_APP_SID = os.environ.get("TWILIO_TWIML_APP_SID", "AP00000000000000000000000000000000")
APPLICATION_SID_FORM = re.compile(r"AP[0-9a-fA-F]{32}")


def twilio_signature(url, params):
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(AUTH_TOKEN.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    if not any(name.lower() == HEADER.lower() for name in headers):
        return
    # A well-formed generated AccountSid becomes ours (it could never match by chance); a
    # malformed one is negative data and stays, to be refused.
    for values in (case.body, case.query):
        if isinstance(values, dict) and ACCOUNT_SID_FORM.fullmatch(str(values.get("AccountSid", ""))):
            values["AccountSid"] = ACCOUNT_SID
        # Likewise the TwiML App, so outgoing calls get past the application check.
        if isinstance(values, dict) and APPLICATION_SID_FORM.fullmatch(str(values.get("ApplicationSid", ""))):
            values["ApplicationSid"] = TWIML_APP_SID
    transport = case.as_transport_kwargs(base_url=BASE_URL)
    prepared = requests.Request(
        method=transport["method"],
        url=transport["url"],
        params=transport.get("params"),
        data=transport.get("data"),
        headers=transport.get("headers"),
    ).prepare()
    params = []
    if prepared.method != "GET" and prepared.body:
        body = prepared.body.decode() if isinstance(prepared.body, bytes) else prepared.body
        params = urllib.parse.parse_qsl(body, keep_blank_values=True)
    for name in [n for n in headers if n.lower() == HEADER.lower()]:
        del case.headers[name]
    case.headers[HEADER] = twilio_signature(prepared.url, params)
