"""The JSON and YAML work of scripts/sam-local, one module per seam: the stand-in base image
(image.py), what `sam build` made (build.py), which fixture goes to which function (plan.py,
template.py), the `sam local invoke` runs with their checks (invoke.py, checks.py,
fake_twilio.py, settings.py), and the template `sam local start-api` serves (start_api.py).

Commands (PYTHONPATH=scripts/lib .venv/bin/python -m sam_local COMMAND ...: the .venv's python
has PyYAML and boto3 through the SAM CLI and moto):

  image ARCH DEBS_DIR CA_BUNDLE OUT_TAR ENDPOINT
      Writes a `docker load` archive of two images sharing one layer: the stand-in for the
      provided.al2023 base image (the C library and libgcc_s from Debian's packages for ARCH,
      a static busybox for the shell, the CA bundle) as softphone-presence/al2023-standin:ARCH,
      and the same with AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SECRETS_MANAGER=ENDPOINT
      as softphone-presence/sam-local:ARCH.
  functions TEMPLATE
      One line per function of the template: logical id, binary, architecture.
  plan TEMPLATE EVENTS_DIR
      Which function each fixture goes to, in the lane and order invoke runs them; fails when a fixture
      maps to no function or a function has no fixture.
  invoke TEMPLATE EVENTS_DIR BUILT_TEMPLATE IMAGE ENV_VARS_JSON PARAMETER_OVERRIDES LOG_DIR
         MOTO_ENDPOINT TABLE
      `sam local invoke` of every fixture with its function, SAM_LOCAL_JOBS (4) at once in
      the plan's lanes, each answer checked, one line `<LogicalId> <fixture> -> <statusCode>`
      each (logs in LOG_DIR), and the device the
      register -> heartbeat -> list sequence stored, read back from moto; exits non-zero on
      any failed check. Starts a fake of Twilio's REST API per invocation on MOTO_ENDPOINT's
      host for the Twilio credentials the functions get (PARAMETER_OVERRIDES, and the API key's
      secret from the SecretsArn secret there) and points TWILIO_API_BASE_URL's parameter at it.
  settings TEMPLATE ENV_FILE OUT_JSON MOTO_ENDPOINT [Param=value ...]
      The development settings of ENV_FILE as parameter overrides (printed) and an --env-vars
      file, through the template's own wiring; a WebSocket API's @connections endpoint is moto,
      and the secrets of ENV_FILE go into a secret in moto's Secrets Manager that SECRETS_ARN
      names, as the template's own secret in AWS.
  start-api-template BUILT_TEMPLATE OUT
      The built template with its AWS::ApiGatewayV2 resources first and no WebSocket routes, for
      `sam local start-api`.
  host-build TEMPLATE BIN_DIR OUT_DIR ARCH
      What `sam build` makes (OUT_DIR/template.yaml and a bootstrap per function), from the
      binaries cargo built in BIN_DIR for this machine, every function on ARCH.
  bootstraps TEMPLATE BUILD_DIR [--any-glibc]
      Every built bootstrap is an ELF for the template's architecture needing no glibc newer
      than Amazon Linux 2023's (--any-glibc: any, for --host-debug's build for this machine).
  table-indexes TEMPLATE MOTO_ENDPOINT TABLE
      The table in moto has every global secondary index of the template's table.
  recorder HOST PORT MOTO_ENDPOINT LOG
      Serves on HOST:PORT what the functions take for DynamoDB, Secrets Manager and
      @connections, recording each call with the function that made it (JSON lines in LOG) on
      its way to moto (recorder.py).
  iam TEMPLATE LOG ALLOWED_UNUSED PARAMETER_OVERRIDES TABLE
      Every recorded call checked against its function's IAM statements in TEMPLATE as IAM
      evaluates them (actions, resources with index ARNs, dynamodb:LeadingKeys); every
      statement's action that no call used must be listed in ALLOWED_UNUSED with the reason it
      is granted (iam.py). Exits non-zero on a call not allowed or an action unused and unlisted.
"""

import sys

from .build import cmd_bootstraps, cmd_functions, cmd_host_build
from .image import cmd_image
from .invoke import cmd_invoke
from .iam import cmd_iam
from .plan import cmd_plan
from .recorder import cmd_recorder
from .settings import cmd_settings, cmd_table_indexes
from .start_api import cmd_start_api_template


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "image" and len(args) == 5:
        cmd_image(*args)
        return 0
    if cmd == "functions" and len(args) == 1:
        cmd_functions(*args)
        return 0
    if cmd == "recorder" and len(args) == 4:
        cmd_recorder(*args)
        return 0
    if cmd == "iam" and len(args) == 5:
        return cmd_iam(*args)
    if cmd == "plan" and len(args) == 2:
        return cmd_plan(*args)
    if cmd == "invoke" and len(args) == 9:
        return cmd_invoke(*args)
    if cmd == "settings" and len(args) >= 4:
        cmd_settings(*args)
        return 0
    if cmd == "start-api-template" and len(args) == 2:
        cmd_start_api_template(*args)
        return 0
    if cmd == "host-build" and len(args) == 4:
        return cmd_host_build(*args)
    if cmd == "bootstraps" and len(args) in (2, 3):
        return cmd_bootstraps(*args)
    if cmd == "table-indexes" and len(args) == 3:
        return cmd_table_indexes(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
