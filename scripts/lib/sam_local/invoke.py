"""`sam local invoke` of every fixture with its function, lanes at the same time, each answer
checked: the answer's shape and content, what the function stored in moto, and what it asked
the fake Twilio."""

import json
import os
import pathlib
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from secret_names import SECRET_NAMES

from .checks import NO_ANSWER, answer_label, check_answer, is_error, is_webhook_fixture
from .fake_twilio import FakeTwilio
from .plan import lanes, plan
from .settings import moto_item, secret_values
from .template import load_template, parameter_of

# How many `sam local invoke` run at once: each is a SAM CLI process and a container whose
# bootstrap may run under qemu, so a 2-core machine gains little beyond a few.
JOBS = max(1, int(os.environ.get("SAM_LOCAL_JOBS", "4")))


class Twilios:
    """A fake Twilio per invocation, on moto's host, for the credentials the functions get (the
    API key's secret from the SecretsArn secret, as they read it; the rest from parameters)."""

    def __init__(self, template, overrides, moto):
        self.given = dict(item.split("=", 1) for item in overrides.split())
        secret = secret_values(moto, self.given["SecretsArn"]) if self.given.get("SecretsArn") else {}

        def setting(var):
            # As the functions layer the secret over the environment (shared/src/config/secrets.rs).
            if var in SECRET_NAMES and self.given.get("SecretsArn"):
                return secret.get(var, "")
            return secret.get(var) or self.given.get(parameter_of(template, var) or "", "")

        self.credentials = [setting(v) for v in ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET")]
        self.base_param = parameter_of(template, "TWILIO_API_BASE_URL")
        if not all(self.credentials) or not self.base_param:
            raise SystemExit("sam-local: the functions get TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and "
                             "TWILIO_API_KEY_SECRET (parameters or the SecretsArn secret) and "
                             "TWILIO_API_BASE_URL (a parameter) no longer")
        self.host = urllib.parse.urlsplit(moto).hostname
        print(f"a fake Twilio REST API per invocation on {self.host} ({self.base_param})", flush=True)

    def start(self):
        """A new fake and the parameter overrides that point the function at it."""
        twilio = FakeTwilio(self.host, *self.credentials)
        given = {**self.given, self.base_param: twilio.url}
        return twilio, " ".join(f"{k}={v}" for k, v in given.items())


def invoke_one(step, ctx):
    """One fixture through `sam local invoke`: the lines to print and whether it failed."""
    order, name, fn, settings, checks, kind, lane = step
    env_file = ctx["env_vars_path"]
    if settings:
        env = json.loads(json.dumps(ctx["base_env"]))
        env.setdefault(fn, {}).update(settings)
        env_file = str(ctx["log_dir"] / f"env-{name}")
        pathlib.Path(env_file).write_text(json.dumps(env))
    twilio, overrides = ctx["twilios"].start()
    cmd = ["sam", "local", "invoke", fn, "--event", str(pathlib.Path(ctx["events_dir"]) / name),
           "--template", ctx["built_template"], "--invoke-image", ctx["image"], "--skip-pull-image",
           "--env-vars", env_file, "--parameter-overrides", overrides, "--beta-features"]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        twilio.server.shutdown()
    seconds = time.monotonic() - t0
    log = ctx["log_dir"] / f"{fn}-{name}.log"
    log.write_text(proc.stderr)
    response = NO_ANSWER
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            response = json.loads(line)
            break
        except ValueError:
            continue
    event = json.loads((pathlib.Path(ctx["events_dir"]) / name).read_text())
    wrong = [f"sam local invoke exited {proc.returncode}"] if proc.returncode else []
    wrong += check_answer(name, kind, response, checks, is_webhook_fixture(event))
    notes = []
    moto, table = ctx["moto"], ctx["table"]
    for check in checks:
        if check[0] == "moto":
            item = moto_item(moto, table, check[1], check[2])
            if item:
                notes.append(f"  stored in moto: {item}")
            else:
                wrong.append(f"no item {check[1]} / {check[2]} in moto")
        if check[0] == "moto-absent" and moto_item(moto, table, check[1], check[2]):
            wrong.append(f"item {check[1]} / {check[2]} in moto, expected none")
    twilio_wrong, twilio_note = twilio.check(checks, 0)
    wrong += twilio_wrong
    notes += [twilio_note] if twilio_note else []
    if kind == "schedule" and isinstance(response, dict) and not is_error(response):
        notes.append(f"  result: {json.dumps(response)}")
    lines = [f"{fn} {name} -> {answer_label(kind, response)}  [{lane}, {seconds:.1f}s]"
             + (f"  FAILED: {'; '.join(wrong)}" if wrong else "")] + notes
    if wrong:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        lines.append(f"  --- last lines of sam local invoke (full log: {log}):\n{tail}")
    return lines, bool(wrong), seconds


def cmd_invoke(template_path, events_dir, built_template, image, env_vars_path, overrides, log_dir, moto, table):
    template = load_template(template_path)
    steps, problems = plan(template, events_dir)
    for p in problems:
        print(f"sam-local: {p}", file=sys.stderr)
    if problems:
        return 1
    log_dir = pathlib.Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    ctx = {"env_vars_path": env_vars_path, "base_env": json.loads(pathlib.Path(env_vars_path).read_text()),
           "twilios": Twilios(template, overrides, moto), "events_dir": events_dir,
           "built_template": built_template, "image": image, "log_dir": log_dir, "moto": moto, "table": table}
    results = []  # (failed, seconds)
    printing = threading.Lock()
    # At most JOBS invocations at once, whichever lanes they belong to.
    slots = threading.Semaphore(JOBS)

    def run_lane(lane_steps):
        for step in lane_steps:
            with slots:
                lines, failed, seconds = invoke_one(step, ctx)
            with printing:
                print("\n".join(lines), flush=True)
                results.append((failed, seconds))

    first, middle, last = lanes(steps)
    started = time.monotonic()
    run_lane(first)
    # The longest lanes first, so that the slowest lane never waits for a slot at the start.
    with ThreadPoolExecutor(max_workers=max(1, len(middle))) as pool:
        for future in [pool.submit(run_lane, lane) for lane in sorted(middle, key=len, reverse=True)]:
            future.result()
    run_lane(last)
    total = time.monotonic() - started
    failed = sum(1 for f, _ in results if f)
    busy = sum(s for _, s in results)
    print(f"sam local invoke: {len(steps) - failed} passed, {failed} failed "
          f"({len(steps)} fixtures, {len({s[2] for s in steps})} functions, {len(middle) + 2} lanes, "
          f"{JOBS} at once; {total:.0f}s, {busy / max(len(steps), 1):.1f}s each, "
          f"slowest {max((s for _, s in results), default=0):.1f}s)")
    return 1 if failed else 0
