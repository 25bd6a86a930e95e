"""The settings that are secrets, read from their one definition: `SECRET_NAMES` in
shared/src/config/secrets.rs. scripts/check-template, scripts/coldstart and scripts/sam-local
read them here, so the list is written once. Standard library only."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "shared" / "src" / "config" / "secrets.rs"

_DECLARATION = re.compile(r"pub const SECRET_NAMES: \[&str; (\d+)\] = \[([^\]]*)\];")


def parse(rust_source):
    """The names of the `SECRET_NAMES` array in `rust_source`, in order. Raises ValueError
    when the declaration is missing or its items are not the string literals its length says,
    so a changed declaration stops every script that reads it instead of reading nothing."""
    found = _DECLARATION.search(rust_source)
    if not found:
        raise ValueError(f"no `pub const SECRET_NAMES: [&str; N] = [...];` in {SOURCE}")
    length, body = int(found.group(1)), found.group(2)
    names = re.findall(r'"([A-Z0-9_]+)"', body)
    leftover = re.sub(r'"[A-Z0-9_]+"|,|\s|//[^\n]*', "", body)
    if len(names) != length or leftover or len(set(names)) != length:
        raise ValueError(f"SECRET_NAMES in {SOURCE} is not {length} distinct quoted setting names: {body.strip()!r}")
    return names


def secret_names():
    """SECRET_NAMES as shared/src/config/secrets.rs declares them."""
    return parse(SOURCE.read_text())


SECRET_NAMES = frozenset(secret_names())

if __name__ == "__main__":
    print("\n".join(secret_names()))
