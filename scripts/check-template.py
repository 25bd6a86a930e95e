#!/usr/bin/env python3
"""Structural checks on template.yaml that linting cannot express: the table has TTL on the
attribute the code writes, every function is arm64 on provided.al2023 and built by
cargo-lambda, and there is exactly one function per crate under functions/.

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

failed = [c for c in checks if not c[1]]
for name, ok, detail in checks:
    if not ok:
        print(f"FAILED {name}: {detail}")
print(f"template: {len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
