"""What `sam build` made: every function's bootstrap, and the function list the script reads."""

import pathlib
import re

from .template import architecture, binary, functions, load_template


def cmd_functions(template_path):
    t = load_template(template_path)
    for logical_id, fn in functions(t).items():
        print(logical_id, binary(fn) or "-", architecture(t, fn))


ELF_MACHINE = {0xB7: "arm64", 0x3E: "x86_64"}
AL2023_GLIBC = (2, 34)


def cmd_bootstraps(template_path, build_dir):
    """Every function's built bootstrap: an ELF for the template's architecture that needs no
    glibc newer than Amazon Linux 2023's (the stand-in image's is Debian 12's 2.36, so it
    cannot tell)."""
    template = load_template(template_path)
    bad = 0
    for logical_id, fn in functions(template).items():
        path = pathlib.Path(build_dir) / logical_id / "bootstrap"
        if not path.is_file():
            print(f"{logical_id}: no {path}")
            bad += 1
            continue
        data = path.read_bytes()
        machine = ELF_MACHINE.get(int.from_bytes(data[18:20], "little"), "?") if data[:4] == b"\x7fELF" else "not ELF"
        versions = sorted({tuple(int(x) for x in m.split(b".")) for m in re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)", data)})
        newest = versions[-1] if versions else None
        want = architecture(template, fn)
        problems = []
        if machine != want:
            problems.append(f"is {machine}, the template says {want}")
        if newest and newest[:2] > AL2023_GLIBC:
            problems.append(f"needs GLIBC_{'.'.join(map(str, newest))}, newer than Amazon Linux 2023's 2.34")
        glibc = "GLIBC_" + ".".join(map(str, newest)) if newest else "no glibc"
        print(f"{logical_id}: {machine} bootstrap, {len(data) / 2**20:.2f} MiB, needs {glibc}"
              + (f"  FAILED: {'; '.join(problems)}" if problems else ""))
        bad += bool(problems)
    return 1 if bad else 0
