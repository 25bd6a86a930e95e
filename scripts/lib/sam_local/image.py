"""The stand-in for the provided.al2023 base image, as a `docker load` archive."""

import gzip
import hashlib
import io
import json
import os
import pathlib
import subprocess
import tarfile


DEBIAN_ARCH = {"arm64": "arm64", "x86_64": "amd64"}


def _tarinfo(name, kind=tarfile.DIRTYPE, mode=0o755, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, linkname
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
    return info


def build_layer(debs_dir, ca_bundle):
    """The root file system as an uncompressed tar, built from the extracted packages."""
    entries = {}  # path -> (TarInfo, bytes or None)

    def add_dir(path, mode=0o755):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            entries.setdefault(p, (_tarinfo(p, mode=mode if i == len(parts) else 0o755), None))

    for deb in sorted(pathlib.Path(debs_dir).glob("*.deb")):
        data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                name = m.name[2:] if m.name.startswith("./") else m.name
                # Only the shared libraries (lib/, lib64/) and busybox: no documentation, locales
                # or gconv modules.
                if not (name.startswith(("lib/", "lib64/")) or name == "bin/busybox"):
                    continue
                if m.isdir():
                    add_dir(name)
                    continue
                add_dir(os.path.dirname(name))
                info = _tarinfo(name, m.type, m.mode, m.size, m.linkname)
                entries[name] = (info, tar.extractfile(m).read() if m.isfile() else None)
    # A shell and the few commands SAM's image build runs (mv, chmod; cp and rm for layers).
    for tool in ["sh", "mv", "chmod", "cp", "rm", "mkdir", "ls", "cat", "env"]:
        entries[f"bin/{tool}"] = (_tarinfo(f"bin/{tool}", tarfile.SYMTYPE, 0o777, linkname="busybox"), None)
    # Amazon Linux 2023's CA bundle location, and /etc/ssl/certs pointing at it as there.
    ca = pathlib.Path(ca_bundle).read_bytes()
    add_dir("etc/pki/tls/certs")
    entries["etc/pki/tls/certs/ca-bundle.crt"] = (_tarinfo("etc/pki/tls/certs/ca-bundle.crt", tarfile.REGTYPE, 0o644, len(ca)), ca)
    add_dir("etc/ssl")
    entries["etc/ssl/certs"] = (_tarinfo("etc/ssl/certs", tarfile.SYMTYPE, 0o777, linkname="../pki/tls/certs"), None)
    entries["etc/pki/tls/cert.pem"] = (_tarinfo("etc/pki/tls/cert.pem", tarfile.SYMTYPE, 0o777, linkname="certs/ca-bundle.crt"), None)
    for d in ["var/task", "var/runtime", "var/rapid", "opt"]:
        add_dir(d)
    add_dir("tmp", 0o1777)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(entries):
            info, content = entries[name]
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return out.getvalue()


def cmd_image(arch, debs_dir, ca_bundle, out_tar, endpoint):
    layer = build_layer(debs_dir, ca_bundle)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    # What the provided.al2023 image sets that a bootstrap may read.
    env = ["PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG=en_US.UTF-8", "TZ=:/etc/localtime",
           "LD_LIBRARY_PATH=/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
           "LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"]
    images = [("softphone-presence/al2023-standin", env, "a local stand-in for public.ecr.aws/lambda/provided:al2023"),
              ("softphone-presence/sam-local", env + [f"AWS_ENDPOINT_URL_DYNAMODB={endpoint}",
                                                       f"AWS_ENDPOINT_URL_SECRETS_MANAGER={endpoint}"],
               "the stand-in, with the functions' DynamoDB and Secrets Manager pointing at moto")]
    manifest, files = [], {"layer.tar": layer}
    for repo, image_env, comment in images:
        config = {
            "architecture": DEBIAN_ARCH[arch], "os": "linux", "created": "1970-01-01T00:00:00Z",
            "config": {"Env": image_env, "WorkingDir": "/var/task"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"scripts/sam-local: {comment}"}],
        }
        if arch == "arm64":
            config["variant"] = "v8"
        blob = json.dumps(config, sort_keys=True).encode()
        name = hashlib.sha256(blob).hexdigest() + ".json"
        files[name] = blob
        manifest.append({"Config": name, "RepoTags": [f"{repo}:{arch}"], "Layers": ["layer.tar"]})
    files["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(out_tar, "w") as tar:
        for name, blob in files.items():
            tar.addfile(_tarinfo(name, tarfile.REGTYPE, 0o644, len(blob)), io.BytesIO(blob))
    gz = len(gzip.compress(layer, 6))
    print(f"stand-in image: {len(layer) / 2**20:.1f} MiB ({gz / 2**20:.1f} MiB gzipped), "
          f"{sum(1 for _ in tarfile.open(fileobj=io.BytesIO(layer)))} entries, {arch}")
