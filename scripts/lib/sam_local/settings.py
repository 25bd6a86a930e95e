"""The development settings the functions get through the template's own wiring, and moto's
Secrets Manager and table as the invocations' checks read them."""

import json
import os
import pathlib
import sys
import time

from secret_names import SECRET_NAMES

from .template import functions, is_connections_endpoint, load_template

def read_env_file(path):
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


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
    secrets = {k: v for k, v in dev.items() if k in SECRET_NAMES}
    if "ApnsKeyId" in params and "APNS_KEY" in SECRET_NAMES:
        # Alerts on, so the alerts function reads what an alert needs: an APNs key made for
        # the run (no phone in the story is registered for alerts, so nothing is sent).
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        key = ec.generate_private_key(ec.SECP256R1())
        secrets["APNS_KEY"] = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()).decode()
        overrides.update(ApnsKeyId="ABC123DEFG", ApnsTeamId="DEF123GHIJ", ApnsTopic="com.example.softphone")
    if "SECRETS_ARN" in declared:
        arn = moto_secret(moto, secrets)
        env_vars["SECRETS_ARN"] = arn
        overrides["SecretsArn"] = arn
    for item in extra:
        k, v = item.split("=", 1)
        overrides[k] = v
    by_function = unresolvable_public_base_urls(template)
    recorder = os.environ.get("SAM_LOCAL_RECORDER")
    if recorder:
        # Each function's calls carry its name to the recorder (recorder.py), which takes it
        # off before moto sees them.
        for logical_id, fn in functions(template).items():
            own = ((fn.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            tags = by_function.setdefault(logical_id, {})
            if "TABLE_NAME" in env_vars:
                tags["TABLE_NAME"] = f"{env_vars['TABLE_NAME']}--fn--{logical_id}"
            if "SECRETS_ARN" in env_vars:
                tags["SECRETS_ARN"] = f"{env_vars['SECRETS_ARN']}#fn={logical_id}"
            for var, value in own.items():
                if is_connections_endpoint(template, value):
                    tags[var] = f"{recorder}/fn/{logical_id}"
    out = {"Parameters": env_vars, **by_function}
    pathlib.Path(out_json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"settings: parameters {', '.join(sorted(overrides))}; --env-vars {', '.join(sorted(env_vars))}",
          file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in sorted(overrides.items())))


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
    keep = ["pk", "sk", "platform", "label", "lastSeen", "expiresAt", "ttlSeconds", "inbox", "activity",
            "missed", "offeredTo"]
    return " ".join(f"{k}={flat[k]}" for k in keep if k in flat)
