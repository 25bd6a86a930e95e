"""The template as scripts/sam-local reads it: CloudFormation YAML with its short-form tags,
its functions, and what leads to each (routes, integrations, event sources, schedules)."""

import re

import yaml


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


def binary(fn):
    return ((fn.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary") or ""


def parameter_of(template, var):
    """The template parameter a function's environment variable VAR is `!Ref`, or None."""
    params = template.get("Parameters") or {}
    for fn in functions(template).values():
        value = ((fn.get("Properties", {}).get("Environment") or {}).get("Variables") or {}).get(var)
        if isinstance(value, dict) and value.get("Ref") in params:
            return value["Ref"]
    return None


def is_connections_endpoint(template, value):
    """A variable the template builds as https://${<WebSocket API>}...: the @connections API
    a function pushes to, which moto serves as well."""
    text = value.get("Fn::Sub") if isinstance(value, dict) else None
    text = text[0] if isinstance(text, list) else text
    if not isinstance(text, str) or not text.startswith("https://"):
        return False
    return api_protocol(template, value) == "WEBSOCKET"
