"""The template `sam local start-api` can serve."""

import pathlib
import sys

import yaml

from .template import api_protocol


def cmd_start_api_template(built, out):
    """The built template with its API Gateway v2 resources first, and nothing else changed.
    `sam local start-api` picks how to read a template's APIs from the first API-related
    resource it meets: an AWS::Serverless::Function first makes it look only for SAM Api and
    HttpApi events and find none in this template, which declares its HTTP API as
    AWS::ApiGatewayV2 resources. Resource order means nothing to CloudFormation."""
    template = yaml.safe_load(pathlib.Path(built).read_text())
    resources = template["Resources"]
    # The SAM CLI serves no WebSocket API and stops on a route key such as $connect: leave those
    # routes out (sam local invoke exercises them).
    websocket_routes = [k for k, v in resources.items()
                        if v.get("Type") in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::RouteResponse")
                        and api_protocol(template, (v.get("Properties") or {}).get("ApiId")) == "WEBSOCKET"]
    for k in websocket_routes:
        del resources[k]
    first = {k: v for k, v in resources.items() if str(v.get("Type", "")).startswith("AWS::ApiGatewayV2::")}
    template["Resources"] = {**first, **{k: v for k, v in resources.items() if k not in first}}
    pathlib.Path(out).write_text(yaml.safe_dump(template, sort_keys=False))
    if websocket_routes:
        print(f"start-api: without the WebSocket routes {', '.join(websocket_routes)}", file=sys.stderr)
