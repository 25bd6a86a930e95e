#!/usr/bin/env python3
"""Structural checks on template.yaml that linting cannot express: the table has TTL on the
attribute the code writes, every function is arm64 on provided.al2023 and built by
cargo-lambda, and there is exactly one function per crate under functions/; no secret reaches a
function as an environment variable, and each function that holds a secret may read the stack's
secret and nothing else of Secrets Manager; every function logs JSON and has its Errors and
Throttles alarms; every alarm and dashboard metric carries the dimensions CloudWatch publishes it
with (an alarm on a dimension set that does not exist never fires, and nothing reports it).

Runs with the .venv that scripts/test creates (cfn-lint parses CloudFormation's YAML tags).
"""

import pathlib
import sys

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parent.parent
template, problems = decode(str(ROOT / "template.yaml"))
if problems:
    sys.exit(f"template.yaml does not parse: {problems}")

checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok), detail))


resources = template["Resources"]
globals_fn = template.get("Globals", {}).get("Function", {})
functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
tables = [v for v in resources.values() if v["Type"] == "AWS::DynamoDB::Table"]

check("one DynamoDB table", len(tables) == 1)
ttl = tables[0]["Properties"].get("TimeToLiveSpecification", {}) if tables else {}
check("TTL enabled on expiresAt", ttl.get("Enabled") is True and ttl.get("AttributeName") == "expiresAt", ttl)
check("point-in-time recovery", tables and tables[0]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"])

crates = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists())
binaries = sorted(f.get("Metadata", {}).get("BuildProperties", {}).get("Binary", "?") for f in functions.values())
check("one function per functions/ crate", binaries == crates, f"{binaries} vs {crates}")
for name, fn in functions.items():
    props = fn["Properties"]
    arch = props.get("Architectures", globals_fn.get("Architectures"))
    runtime = props.get("Runtime", globals_fn.get("Runtime"))
    check(f"{name} is arm64", arch == ["arm64"], arch)
    check(f"{name} runs on provided.al2023", runtime == "provided.al2023", runtime)
    check(f"{name} builds with cargo-lambda", fn.get("Metadata", {}).get("BuildMethod") == "rust-cargolambda")
    check(f"{name} has its own least-privilege policy", props.get("Policies"))
    # The init-time warm-up (shared/src/lambda.rs) reads pk "warmup": allowed, and nothing else
    # by that statement.
    statements = [s for p in props.get("Policies") or [] if isinstance(p, dict) for s in p.get("Statement", [])]
    warmup = [s for s in statements
              if s.get("Action") == ["dynamodb:GetItem"]
              and s.get("Condition", {}).get("ForAllValues:StringEquals", {}).get("dynamodb:LeadingKeys") == ["warmup"]]
    check(f"{name} may GetItem only the warm-up key at init", len(warmup) == 1, statements)

# The realtime channel (docs/deploying.md): a WebSocket API whose stage follows its routes, a
# $default route that returns the function's pong, a push fed only new events by the stream.
apis = {k: v for k, v in resources.items() if v["Type"] == "AWS::ApiGatewayV2::Api"}
websocket = [k for k, v in apis.items() if v["Properties"].get("ProtocolType") == "WEBSOCKET"]
check("one WebSocket API", len(websocket) == 1, websocket)
stages = [v for v in resources.values() if v["Type"] == "AWS::ApiGatewayV2::Stage"
          and v["Properties"].get("ApiId") == {"Ref": websocket[0] if websocket else "?"}]
check("the WebSocket stage auto-deploys (no pinned DeploymentId)",
      len(stages) == 1 and stages[0]["Properties"].get("AutoDeploy") is True
      and "DeploymentId" not in stages[0]["Properties"], stages)
routes = {v["Properties"]["RouteKey"]: k for k, v in resources.items() if v["Type"] == "AWS::ApiGatewayV2::Route"}
for key in ["$connect", "$disconnect", "$default"]:
    check(f"WebSocket route {key}", key in routes)
responses = [v for v in resources.values() if v["Type"] == "AWS::ApiGatewayV2::RouteResponse"]
check("$default returns the function's answer (a pong)",
      any(r["Properties"].get("RouteId") == {"Ref": routes.get("$default")} for r in responses))
streams = [(k, e) for k, f in functions.items() for e in (f["Properties"].get("Events") or {}).values()
           if e.get("Type") == "DynamoDB"]
check("one stream consumer", len(streams) == 1, streams)
if streams:
    props = streams[0][1]["Properties"]
    check("the push reports batch item failures", props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"])
    patterns = " ".join(f["Pattern"] for f in props.get("FilterCriteria", {}).get("Filters", []))
    check("the push is sent only new event items", '"INSERT"' in patterns and '"~evt:"' in patterns, patterns)
stream_view = tables[0]["Properties"].get("StreamSpecification", {}).get("StreamViewType") if tables else None
check("the table streams new images", stream_view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"), stream_view)

# A browser app on another origin can call every method the HTTP API's routes take (DELETE of
# a voicemail among them): the preflight answers from CorsConfiguration.
http_apis = [v for v in apis.values() if v["Properties"].get("ProtocolType") == "HTTP"]
allowed = {m for a in http_apis for m in a["Properties"].get("CorsConfiguration", {}).get("AllowMethods", [])}
used = {key.split(" ", 1)[0] for key in routes if " /" in key}
check("CORS allows every method of the HTTP API's routes", used <= allowed, sorted(used - allowed))

for name, param in template["Parameters"].items():
    if param.get("NoEcho"):
        check(f"secret {name} has no non-empty default", not param.get("Default"))

# ---- Secrets: never in the environment; read from the stack's secret by those that hold one.
SECRET_NAMES = {"APP_JWT_SECRET", "TWILIO_API_KEY_SECRET", "TWILIO_AUTH_TOKEN",
                "TWILIO_AUTH_TOKEN_SECONDARY", "REALTIME_TICKET_SECRET"}
no_echo = {k for k, v in template["Parameters"].items() if v.get("NoEcho")}


def refs(value):
    """Every Ref and Fn::Sub name in a value."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                yield v
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                if isinstance(text, str):
                    import re
                    yield from re.findall(r"\$\{([^}!.]+)", text)
                yield from refs(v)
            else:
                yield from refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from refs(v)


environments = {"Globals": globals_fn.get("Environment", {}).get("Variables", {})}
environments.update({k: f["Properties"].get("Environment", {}).get("Variables", {}) for k, f in functions.items()})
for where, variables in environments.items():
    for var, value in variables.items():
        check(f"{where}: no secret variable {var}", var not in SECRET_NAMES)
        leaked = no_echo.intersection(refs(value))
        check(f"{where}: {var} carries no NoEcho parameter", not leaked, leaked)
secret_arn = {"Fn::If": ["CreateSecret", {"Ref": "Secrets"}, {"Ref": "SecretsArn"}]}
check("SECRETS_ARN names the stack's secret", environments["Globals"].get("SECRETS_ARN") == secret_arn,
      environments["Globals"].get("SECRETS_ARN"))


def holds_secret(fn):
    """A function holds a secret when its crate turns on shared's `secrets` feature."""
    binary = fn.get("Metadata", {}).get("BuildProperties", {}).get("Binary", "")
    manifest = ROOT / "functions" / binary / "Cargo.toml"
    text = manifest.read_text() if manifest.exists() else ""
    return any(line.startswith("shared") and '"secrets"' in line for line in text.splitlines())


for name, fn in functions.items():
    statements = [s for p in fn["Properties"].get("Policies") or [] if isinstance(p, dict)
                  for s in p.get("Statement", [])]
    reads = [s for s in statements if any(str(a).startswith("secretsmanager:") for a in s.get("Action", []))]
    if holds_secret(fn):
        check(f"{name} may read the stack's secret, and only that",
              len(reads) == 1 and reads[0]["Action"] == ["secretsmanager:GetSecretValue"]
              and reads[0]["Resource"] == secret_arn, reads)
    else:
        check(f"{name} holds no secret and may read none", not reads, reads)

# ---- Logs and alarms.
alarms = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
for name, fn in functions.items():
    logging = fn["Properties"].get("LoggingConfig", {})
    check(f"{name} logs in Lambda's JSON format", logging.get("LogFormat") == "JSON", logging)
    for metric in ["Errors", "Throttles"]:
        found = [a for a, p in alarms.items()
                 if p.get("Namespace") == "AWS/Lambda" and p.get("MetricName") == metric
                 and p.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": name}}]]
        check(f"{name} has its {metric} alarm", len(found) == 1, found)
topic = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
for name, props in alarms.items():
    check(f"{name} notifies the alarm topic", props.get("AlarmActions") == topic, props.get("AlarmActions"))
    check(f"{name} treats missing data as fine", props.get("TreatMissingData") == "notBreaching")

# What CloudWatch publishes, by namespace and metric: the dimension sets it exists with.
LAMBDA = [{"FunctionName"}, {"FunctionName", "Resource"}, {"FunctionName", "ExecutedVersion"}]
PUBLISHED = {
    **{("AWS/Lambda", m): LAMBDA for m in ["Errors", "Throttles", "Duration", "Invocations", "ConcurrentExecutions"]},
    **{("AWS/Lambda", m): [{"FunctionName"}, {"FunctionName", "Resource"}]
       for m in ["Url5xxCount", "Url4xxCount", "UrlRequestCount", "UrlRequestLatency"]},
    # HTTP APIs; REST APIs' 5XXError/4XXError (by ApiName) never exist for them.
    **{("AWS/ApiGateway", m): [{"ApiId"}, {"ApiId", "Stage"}] for m in ["5xx", "4xx", "Count", "Latency", "IntegrationLatency"]},
    **{("AWS/DynamoDB", m): [{"TableName"}, {"TableName", "GlobalSecondaryIndexName"}]
       for m in ["ReadThrottleEvents", "WriteThrottleEvents", "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"]},
    # Only per operation: an alarm on TableName alone never gets data.
    **{("AWS/DynamoDB", m): [{"TableName", "Operation"}]
       for m in ["ThrottledRequests", "SystemErrors", "SuccessfulRequestLatency", "ReturnedItemCount"]},
    ("AWS/DynamoDB", "UserErrors"): [set()],
}
filters = [t for v in resources.values() if v["Type"] == "AWS::Logs::MetricFilter"
           for t in v["Properties"]["MetricTransformations"]]
DIMENSION_TARGETS = {"FunctionName": "AWS::Serverless::Function", "TableName": "AWS::DynamoDB::Table",
                     "ApiId": "AWS::ApiGatewayV2::Api"}


def check_metric(where, namespace, metric, dimensions):
    """dimensions: {name: value}."""
    if isinstance(namespace, str) and namespace.startswith("AWS/"):
        sets = PUBLISHED.get((namespace, metric))
        check(f"{where}: {namespace} {metric} is a metric this check knows", sets is not None)
        check(f"{where}: {namespace} {metric} has the dimensions it is published with",
              sets is not None and set(dimensions) in sets, sorted(dimensions))
    else:
        made = [t for t in filters if t["MetricNamespace"] == namespace and t["MetricName"] == metric]
        check(f"{where}: {metric} is made by a metric filter", made, (namespace, metric))
        check(f"{where}: {metric} has no dimensions (its filter sets none)", not dimensions, dimensions)
    for dim, value in dimensions.items():
        target = DIMENSION_TARGETS.get(dim)
        if target:
            ref = value.get("Ref") if isinstance(value, dict) else value.strip("${}") if isinstance(value, str) else None
            check(f"{where}: {dim} names a {target}", resources.get(ref, {}).get("Type") == target, value)
    if dimensions.get("Stage") is not None:
        check(f"{where}: the HTTP API's stage", dimensions["Stage"] == "$default", dimensions["Stage"])


for name, props in alarms.items():
    if "MetricName" in props:
        dims = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        check_metric(name, props.get("Namespace"), props["MetricName"], dims)
    for query in props.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            m = stat["Metric"]
            check_metric(f"{name}/{query['Id']}", m["Namespace"], m["MetricName"],
                         {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
for filter_ in filters:
    namespace = filter_["MetricNamespace"]
    used = [a for a, p in alarms.items() if p.get("MetricName") == filter_["MetricName"] and p.get("Namespace") == namespace]
    check(f"metric filter {filter_['MetricName']} has an alarm", used)

dashboards = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
check("one dashboard", len(dashboards) == 1)
for dashboard in dashboards:
    import json
    body = dashboard["DashboardBody"]
    text = body.get("Fn::Sub") if isinstance(body, dict) else body
    widgets = json.loads(text)["widgets"]
    for widget in widgets:
        for metric in widget.get("properties", {}).get("metrics", []):
            fields = [f for f in metric if not isinstance(f, dict)]
            namespace, name, rest = fields[0], fields[1], fields[2:]
            if namespace == "SoftphonePresence/${AWS::StackName}":
                namespace = {"Fn::Sub": namespace}
            dims = dict(zip(rest[::2], rest[1::2]))
            check_metric(f"dashboard {widget['properties']['title']!r}", namespace, name, dims)
    shown = {(f[0], f[1]) for w in widgets for f in w.get("properties", {}).get("metrics", [])}
    for name, props in alarms.items():
        if "MetricName" in props:
            namespace = props["Namespace"]
            key = (namespace.get("Fn::Sub") if isinstance(namespace, dict) else namespace, props["MetricName"])
            check(f"the dashboard shows {name}'s metric", key in shown, key)

failed = [c for c in checks if not c[1]]
for name, ok, detail in checks:
    if not ok:
        print(f"FAILED {name}: {detail}")
print(f"template: {len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
