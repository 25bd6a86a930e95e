"""Checks on a function's answer: status, body shape, JSON paths, TwiML text, headers."""

import base64
import json

from .plan import expected_status


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
