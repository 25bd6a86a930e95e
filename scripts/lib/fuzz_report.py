"""Read schemathesis' JSON report (scripts/fuzz-api): print cases and failures, and fail on
any failure that is not a known gap between docs/openapi.yaml and today's server.

Each known gap is (failure code, operation) with the reason; delete an entry when the server
catches up, and the fuzzing holds the server to the spec from then on.
"""

import json
import sys

KNOWN_GAPS = {}


def main(path):
    report = json.load(open(path, encoding="utf-8"))
    cases = report["test_cases"]
    print(f"fuzz-api: {cases['generated']} cases generated over "
          f"{report['operations']['tested']} operations in {report['running_time']:.0f} s; "
          f"{cases['unique_failures']} unique failures, {len(report['errors'])} errors")
    new = 0
    for failure in report["failures"]:
        for operation in failure["operations"]:
            reason = KNOWN_GAPS.get((failure["code"], operation))
            label = f"known gap: {reason}" if reason else "NEW"
            new += reason is None
            print(f"  {failure['code']} {failure['title']}: {operation} ({label})")
    for error in report["errors"]:
        print(f"  error: {error}")
    if new or report["errors"]:
        print(f"fuzz-api: {new} new failure(s), {len(report['errors'])} error(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
