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

for name, param in template["Parameters"].items():
    if param.get("NoEcho"):
        check(f"secret {name} has no non-empty default", not param.get("Default"))

failed = [c for c in checks if not c[1]]
for name, ok, detail in checks:
    if not ok:
        print(f"FAILED {name}: {detail}")
print(f"template: {len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
