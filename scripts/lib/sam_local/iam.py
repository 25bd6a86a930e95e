"""The AWS calls the functions made in the run (recorder.py's log), checked against each
function's IAM statements in the template as IAM evaluates them:

- a DynamoDB call's action on the table's ARN, or the index's (`<table>/index/<name>`) for a
  query of one; `dynamodb:LeadingKeys` the partition key value(s) it touches (a query's key
  condition, an item's key, every item of a batch); each item of a transaction is its own
  action (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`, `GetItem`), as IAM
  authorizes them;
- `secretsmanager:GetSecretValue` on the secret's ARN;
- `execute-api:ManageConnections` on `<api>/<stage>/<METHOD>/@connections/<id>`.

A statement allows a call when one of its actions and one of its resources match (IAM's `*`
and `?`) and every condition holds (`ForAllValues:StringLike` / `StringEquals` over the call's
values). A call no statement allows fails the run, naming the function, the call and what it
needed. A statement's action that no call used is listed, and fails the run unless
ALLOWED_UNUSED (JSON: function -> {"<action> <resource> [<keys>]": "why"}) says why it is
granted anyway (a path no fixture reaches, a call Lambda's event source mapping makes with the
function's role); an entry that matches no grant fails too, so the list cannot go stale.
"""

import collections
import copy
import fnmatch
import json
import re
import sys

from .template import functions, load_template

PARTITION, REGION, ACCOUNT, URL_SUFFIX = "aws", "us-east-1", "123456789012", "amazonaws.com"
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


class Resolver:
    """The template's intrinsic functions as this run deployed them: the table is TABLE, the
    secret the SecretsArn override, other resources their logical ids."""

    def __init__(self, template, params, table):
        self.template, self.table = template, table
        self.params = {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}
        self.params.update(params)
        self.resources = template["Resources"]

    def table_arn(self):
        return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{self.table}"

    def ref(self, name):
        if name == "AWS::Partition":
            return PARTITION
        if name == "AWS::Region":
            return REGION
        if name == "AWS::AccountId":
            return ACCOUNT
        if name == "AWS::URLSuffix":
            return URL_SUFFIX
        if name == "AWS::NoValue":
            return None
        if name in self.params:
            return self.params[name]
        res = self.resources.get(name, {})
        if res.get("Type") == "AWS::DynamoDB::Table":
            return self.table
        if res.get("Type") == "AWS::ApiGatewayV2::Stage":
            return res["Properties"]["StageName"]
        return name

    def get_att(self, name, attribute):
        res = self.resources.get(name, {})
        kind = res.get("Type")
        if kind == "AWS::DynamoDB::Table":
            return self.table_arn() + ("/stream/STREAM" if attribute == "StreamArn" else "")
        if kind == "AWS::SQS::Queue":
            return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}" if attribute == "Arn" else name
        return f"{name}.{attribute}"

    def condition(self, name):
        cond = (self.template.get("Conditions") or {})[name]
        return bool(self.value(cond))

    def value(self, v):
        if isinstance(v, list):
            out = [self.value(x) for x in v]
            return [x for x in out if x is not None]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref":
                return self.ref(arg)
            if k == "Fn::GetAtt":
                return self.get_att(*arg)
            if k == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if k == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if k == "Fn::Not":
                return not self.value(arg[0])
            if k == "Fn::And":
                return all(self.value(a) for a in arg)
            if k == "Fn::Or":
                return any(self.value(a) for a in arg)
            if k == "Condition":
                return self.condition(arg)
            if k == "Fn::Sub":
                text, extra = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})

                def sub(m):
                    key = m.group(1)
                    if key in extra:
                        return str(self.value(extra[key]))
                    if "." in key:
                        return str(self.get_att(*key.split(".", 1)))
                    return str(self.ref(key))
                return re.sub(r"\$\{([^}!]+)\}", sub, text)
        return {k: self.value(x) for k, x in v.items()}


def statements_of(resolver, fn):
    out = []
    for policy in fn.get("Properties", {}).get("Policies") or []:
        if not isinstance(policy, dict):
            continue
        for raw in policy.get("Statement", []):
            st = resolver.value(raw)
            if not st:
                continue
            listify = lambda x: x if isinstance(x, list) else [x]
            out.append({"Effect": st.get("Effect"), "Action": listify(st.get("Action", [])),
                        "Resource": listify(st.get("Resource", [])), "Condition": st.get("Condition") or {}})
    return out


def partition_key(template, index):
    """The partition key attribute of the table or of one of its indexes."""
    for res in template["Resources"].values():
        if res.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = res["Properties"]
        schemas = [props["KeySchema"]] if index is None else [
            g["KeySchema"] for g in props.get("GlobalSecondaryIndexes", []) if g["IndexName"] == index]
        for schema in schemas:
            return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    return "pk"


def key_value(key, attr):
    value = (key or {}).get(attr) or {}
    return value.get("S") or value.get("N")


def query_key(template, request):
    """The partition key value a query's key condition names."""
    attr = partition_key(template, request.get("IndexName"))
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)", request.get("KeyConditionExpression", "")):
        if names.get(left, left) == attr:
            return key_value({attr: values.get(right)}, attr)
    return None


def calls_of(template, resolver, line):
    """[(action, resource, {condition key: [values]}, description)] one recorded call needs."""
    service, op, req = line.get("service", ""), line.get("operation", ""), line.get("request") or {}
    table_arn = resolver.table_arn()
    if service.startswith("DynamoDB_"):
        def leading(keys):
            return {"dynamodb:LeadingKeys": sorted({k for k in keys if k is not None})}
        if op == "TransactWriteItems" or op == "TransactGetItems":
            out = []
            for item in req.get("TransactItems", []):
                for kind, body in item.items():
                    pk = key_value(body.get("Key") or body.get("Item"), "pk")
                    out.append((f"dynamodb:{TRANSACT[kind]}", table_arn, leading([pk]), f"{op}: {TRANSACT[kind]} {pk}"))
            return out
        if op in ("BatchWriteItem", "BatchGetItem"):
            out = []
            for table, requests in (req.get("RequestItems") or {}).items():
                if op == "BatchGetItem":
                    pks = [key_value(k, "pk") for k in requests.get("Keys", [])]
                else:
                    pks = [key_value((r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key"), "pk")
                           for r in requests]
                out.append((f"dynamodb:{op}", table_arn, leading(pks), f"{op} {sorted(set(filter(None, pks)))[:3]}"))
            return out
        resource = table_arn + (f"/index/{req['IndexName']}" if req.get("IndexName") else "")
        if op == "Query":
            pk = query_key(template, req)
        elif op == "Scan":
            return [(f"dynamodb:{op}", resource, {}, "Scan")]
        else:
            pk = key_value(req.get("Key") or req.get("Item"), "pk")
        where = f" on index {req['IndexName']}" if req.get("IndexName") else ""
        return [(f"dynamodb:{op}", resource, leading([pk]), f"{op} {pk}{where}")]
    if service == "secretsmanager":
        return [(f"secretsmanager:{op}", req.get("SecretId", ""), {}, f"{op}")]
    m = re.match(r"^(?:/[^/@]+)?/@connections/(.+)$", line.get("path", ""))
    if m:
        stage = resolver.ref("RealtimeStage")
        arn = f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:RealtimeApi/{stage}/{line['method']}/@connections/{m.group(1)}"
        return [("execute-api:ManageConnections", arn, {}, f"{line['method']} @connections")]
    return [("unknown", line.get("path", ""), {}, f"unrecognised call {line.get('method')} {line.get('path')}")]


def like(pattern, value, case=True):
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def conditions_hold(condition, context):
    for operator, checks in condition.items():
        for key, wanted in checks.items():
            wanted = wanted if isinstance(wanted, list) else [wanted]
            values = context.get(key)
            if operator in ("ForAllValues:StringLike", "ForAllValues:StringEquals"):
                match = like if operator.endswith("Like") else (lambda p, v: p == v)
                # IAM: every value must match; a call without the key passes (vacuously).
                if values and not all(any(match(w, v) for w in wanted) for v in values):
                    return False
            elif operator in ("StringLike", "StringEquals"):
                match = like if operator == "StringLike" else (lambda p, v: p == v)
                if not values or not any(match(w, v) for w in wanted for v in values):
                    return False
            else:
                return False
    return True


def describe(resolver, resource):
    table = resolver.table_arn()
    return (resource.replace(table, "table").replace(f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:", "queue/")
            .replace(f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:", ""))


def patterns_of(condition):
    """The partition key patterns a statement's LeadingKeys condition grants, each a grant of
    its own (a statement for `number:*` and `softphone:*` whose calls all touch `softphone:`
    grants `number:*` for nothing); [None] for a statement without one."""
    out = []
    for operator, checks in condition.items():
        if operator.startswith("ForAllValues:"):
            values = checks.get("dynamodb:LeadingKeys", [])
            out += values if isinstance(values, list) else [values]
    return out or [None]


def matched_patterns(condition, context):
    """The patterns of `condition` the call's partition keys used."""
    patterns = patterns_of(condition)
    if patterns == [None]:
        return [None]
    keys = context.get("dynamodb:LeadingKeys") or []
    return [p for p in patterns if any(like(p, k) for k in keys)]


def grant_key(resolver, action, resource, pattern):
    return f"{action} {describe(resolver, resource)}" + (f" [{pattern}]" if pattern else "")


def check(template, lines, allowed, params, table):
    resolver = Resolver(template, params, table)
    fns = functions(template)
    statements = {name: statements_of(resolver, fn) for name, fn in fns.items()}
    used = {name: set() for name in fns}
    problems = []
    # Per function: (action, resource) -> calls.
    seen = {name: collections.Counter() for name in fns}
    for line in lines:
        fn = line.get("function")
        if fn not in fns:
            problems.append(f"a call from no known function ({fn}): {line.get('operation') or line.get('path')}")
            continue
        for action, resource, context, what in calls_of(template, resolver, line):
            seen[fn][(action, describe(resolver, resource))] += 1
            allowing = [(i, a, r) for i, st in enumerate(statements[fn]) if st["Effect"] == "Allow"
                        for a in st["Action"] if like(a, action, case=False)
                        for r in st["Resource"] if like(r, resource)
                        if conditions_hold(st["Condition"], context)]
            if not allowing:
                needed = ", ".join(f"{k}={v}" for k, v in context.items()) or "no condition"
                problems.append(f"{fn}: {what} is not allowed: it needs {action} on "
                                f"{describe(resolver, resource)} ({needed})")
            for i, a, r in allowing:
                for pattern in matched_patterns(statements[fn][i]["Condition"], context):
                    used[fn].add((i, a, r, pattern))
    unused = {}
    for fn, sts in statements.items():
        marks = dict((allowed.get(fn) or {}))
        for i, st in enumerate(sts):
            for a in st["Action"]:
                for r in st["Resource"]:
                    for pattern in patterns_of(st["Condition"]):
                        if (i, a, r, pattern) in used[fn]:
                            continue
                        key = grant_key(resolver, a, r, pattern)
                        if key in marks:
                            marks.pop(key)
                            continue
                        unused.setdefault(fn, []).append(key)
        for stale in marks:
            problems.append(f"{fn}: iam-unused.json lists {stale!r}, which is no unused grant of it")
    for name in allowed:
        if not name.startswith("_") and name not in fns:
            problems.append(f"iam-unused.json names {name}, which is no function of the template")
    for fn, keys in unused.items():
        for key in keys:
            problems.append(f"{fn}: grants {key}, which no call used (remove it, or say in "
                            f"scripts/config/iam-unused.json why it is needed)")
    return problems, seen


def _statements(template, fn):
    return [st for p in template["Resources"][fn]["Properties"].get("Policies") or [] if isinstance(p, dict)
            for st in p.get("Statement", []) if isinstance(st, dict) and "Effect" in st]


def _drop_action(fn, action):
    def mutate(t):
        for st in _statements(t, fn):
            st["Action"] = [a for a in st["Action"] if a != action]
    return mutate


def _index_on_table(t):
    for st in _statements(t, "SmsFunction"):
        if st.get("Resource") == {"Fn::Sub": "${Table.Arn}/index/inbox-activity"}:
            st["Resource"] = {"Fn::GetAtt": ["Table", "Arn"]}


def _drop_key(fn, pattern):
    def mutate(t):
        for st in _statements(t, fn):
            for checks in (st.get("Condition") or {}).values():
                keys = checks.get("dynamodb:LeadingKeys")
                if isinstance(keys, list) and pattern in keys:
                    checks["dynamodb:LeadingKeys"] = [k for k in keys if k != pattern] or ["nothing"]
    return mutate


# The mistakes a template could make that no other check catches (issue 32): each must fail
# this check, naming the function and the call, on this very run's calls.
MUTATIONS = [
    ("dynamodb:DeleteItem removed from register-device", _drop_action("RegisterDeviceFunction", "dynamodb:DeleteItem"),
     "RegisterDeviceFunction: TransactWriteItems: DeleteItem"),
    ("the inbox index statement pointed at the table", _index_on_table,
     "SmsFunction: Query sms:org_demo:phone-sales on index inbox-activity is not allowed"),
    ("execute-api:ManageConnections removed from realtime-push",
     _drop_action("RealtimePushFunction", "execute-api:ManageConnections"),
     "RealtimePushFunction: POST @connections is not allowed"),
    ("callhist:* dropped from the webhooks (voice-incoming)", _drop_key("WebhooksFunction", "callhist:*"),
     "WebhooksFunction: TransactWriteItems: PutItem callhist:"),
]


def cmd_iam(template_path, log_path, allowed_path, overrides, table):
    template = load_template(template_path)
    lines = [json.loads(l) for l in open(log_path, encoding="utf-8") if l.strip()]
    allowed = json.loads(open(allowed_path, encoding="utf-8").read())
    params = dict(item.split("=", 1) for item in overrides.split() if "=" in item)
    problems, seen = check(template, lines, allowed, params, table)
    for fn in sorted(seen):
        calls = ", ".join(f"{a.split(':')[1]} {r} ×{n}" for (a, r), n in sorted(seen[fn].items()))
        print(f"iam: {fn}: {sum(seen[fn].values())} calls checked: {calls}")
    if not problems:
        for what, mutate, expected in MUTATIONS:
            mutated = copy.deepcopy(template)
            mutate(mutated)
            caught, _ = check(mutated, lines, allowed, params, table)
            hit = [p for p in caught if p.startswith(expected) or expected in p]
            if hit:
                print(f"iam: a template with {what} fails: {hit[0]}")
            else:
                problems.append(f"a template with {what} would pass this check (expected: {expected}); "
                                f"it found {caught[:3]}")
    for p in problems:
        print(f"iam: FAILED {p}", file=sys.stderr)
    print(f"iam: {sum(sum(c.values()) for c in seen.values())} calls of {sum(1 for c in seen.values() if c)} functions checked, "
          f"{len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0
