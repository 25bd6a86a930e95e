"""What `sam build` made: every function's bootstrap, and the function list the script reads."""

import os
import pathlib
import re
import shutil

import yaml

from .template import architecture, binary, functions, load_template


def cmd_functions(template_path):
    t = load_template(template_path)
    for logical_id, fn in functions(t).items():
        print(logical_id, binary(fn) or "-", architecture(t, fn))


ELF_MACHINE = {0xB7: "arm64", 0x3E: "x86_64"}
AL2023_GLIBC = (2, 34)


def cmd_bootstraps(template_path, build_dir, *flags):
    """Every function's built bootstrap: an ELF for the template's architecture that needs no
    glibc newer than Amazon Linux 2023's (the stand-in image's is Debian 12's 2.36, so it
    cannot tell). --any-glibc: a build for this machine only (--host-debug), linked against its
    own C library, which the stand-in image carries too."""
    any_glibc = "--any-glibc" in flags
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
        if newest and newest[:2] > AL2023_GLIBC and not any_glibc:
            problems.append(f"needs GLIBC_{'.'.join(map(str, newest))}, newer than Amazon Linux 2023's 2.34")
        glibc = "GLIBC_" + ".".join(map(str, newest)) if newest else "no glibc"
        print(f"{logical_id}: {machine} bootstrap, {len(data) / 2**20:.2f} MiB, needs {glibc}"
              + (f"  FAILED: {'; '.join(problems)}" if problems else ""))
        bad += bool(problems)
    return 1 if bad else 0


def cmd_host_build(template_path, bin_dir, out_dir, arch):
    """What `sam build` makes, from bootstraps cargo already built for this machine (debug, host
    architecture): OUT_DIR/<LogicalId>/bootstrap for every function and OUT_DIR/template.yaml,
    the template with each CodeUri pointing there and every function on ARCH. The template's
    wiring (events, environment, parameters, routes) is untouched; only the build differs."""
    template = load_template(template_path)
    out = pathlib.Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    missing = []
    for logical_id, fn in functions(template).items():
        source = pathlib.Path(bin_dir) / binary(fn)
        if not binary(fn) or not source.is_file():
            missing.append(f"{logical_id} ({source})")
            continue
        (out / logical_id).mkdir()
        # A hard link where the file system allows: debug bootstraps are large.
        try:
            os.link(source, out / logical_id / "bootstrap")
        except OSError:
            shutil.copy2(source, out / logical_id / "bootstrap")
        props = fn.setdefault("Properties", {})
        props["CodeUri"] = logical_id
        if "Architectures" in props:
            props["Architectures"] = [arch]
        # Built already: nothing for SAM to build (it reads Metadata.BuildMethod only in `sam build`).
        fn.pop("Metadata", None)
    globals_fn = (template.get("Globals") or {}).get("Function")
    if globals_fn and "Architectures" in globals_fn:
        globals_fn["Architectures"] = [arch]
    if missing:
        print("host build: no bootstrap for " + ", ".join(missing))
        return 1
    # Long-form intrinsics (Ref, Fn::Sub, ...): CloudFormation and the SAM CLI read both forms.
    with open(out / "template.yaml", "w") as f:
        yaml.safe_dump(template, f, sort_keys=False, width=120)
    print(f"host build: {len(functions(template))} functions from {bin_dir}, {arch}, in {out_dir}")
    return 0
