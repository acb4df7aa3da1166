"""Regenerate src/claude_preflight/data/settings-schema.json from Claude Code's own SDK.

    python tools/settings_schema.py                     # the SDK release the data file names (a check that it still agrees)
    python tools/settings_schema.py --sdk-version 0.3.333 --write
    python tools/settings_schema.py --sdk-version latest --write
    python tools/settings_schema.py --package-dir DIR   # an unpacked package folder instead of npm

`@anthropic-ai/claude-agent-sdk` 0.3.N is published with Claude Code 2.1.N. It is fetched with `npm pack` (no install,
no scripts run) into a temporary folder. From it we read:
- `sdk.d.ts`: `interface Settings` (the documented keys) and `HOOK_EVENTS`;
- the bundled JavaScript, through tools/sdk_probe.mjs: the zod schema of every key Claude Code knows (types, enums,
  ranges) and, from the same parse function the CLI runs, what happens to a file holding a bad value of each key:
  the whole file dropped ("drop"), that entry skipped with a warning ("skip"), or nothing said ("silent").
Needs node (>= 18) and, unless --package-dir is given, npm. Exit 1 when --check finds the data file differs.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "claude_preflight" / "data" / "settings-schema.json"
PROBE = Path(__file__).with_name("sdk_probe.mjs")
PACKAGE = "@anthropic-ai/claude-agent-sdk"
WRAPPERS = ("optional", "nullable", "default", "catch", "readonly", "prefault", "nonoptional", "lazy")


def sdk_for_cli(cli_version: str) -> str:
    """SDK 0.3.N goes with CLI 2.1.N."""
    major, minor, patch = cli_version.split(".")
    if (major, minor) != ("2", "1"):
        raise SystemExit(f"no known SDK release line for Claude Code {cli_version}")
    return f"0.3.{patch}"


def cli_for_sdk(sdk_version: str) -> str:
    return "2.1." + sdk_version.split(".")[2]


def latest_sdk(timeout: float = 60) -> str:
    npm = shutil.which("npm") or "npm"
    out = subprocess.run([npm, "view", PACKAGE, "version"], capture_output=True, text=True, timeout=timeout, check=True)
    return out.stdout.strip()


def fetch(sdk_version: str, into: Path, timeout: float = 300) -> Path:
    """`npm pack` the SDK tarball (no install) and unpack it; returns the package folder."""
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("npm is not installed: pass --package-dir with an unpacked SDK package")
    subprocess.run([npm, "pack", f"{PACKAGE}@{sdk_version}", "--silent", "--pack-destination", str(into)],
                   check=True, timeout=timeout, capture_output=True)  # fmt: skip
    tarball = next(into.glob("*.tgz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    return into / "package"


def read_dts(package: Path) -> tuple[list[str], list[str]]:
    """The documented keys of `interface Settings` and the `HOOK_EVENTS` list, from sdk.d.ts."""
    text = (package / "sdk.d.ts").read_text(encoding="utf-8")
    events = re.search(r"export declare const HOOK_EVENTS: readonly \[([^\]]*)\]", text)
    if not events:
        raise SystemExit("sdk.d.ts has no HOOK_EVENTS")
    start = text.index("export declare interface Settings {")
    keys, depth = [], 0
    for line in text[start:].splitlines():
        if depth == 1 and (m := re.match(r"\s*([\"']?)(\$?[A-Za-z0-9_]+)\1\??:", line)):
            keys.append(m.group(2))
        depth += line.count("{") - line.count("}")
        if depth == 0 and keys:
            break
    return keys, re.findall(r"'([A-Za-z]+)'", events.group(1))


def probe(package: Path, timeout: float = 120) -> dict:
    node = shutil.which("node")
    if not node:
        raise SystemExit("node is not installed: the schema is read by running the SDK's own code")
    out = subprocess.run([node, str(PROBE), str(package)], capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise SystemExit(f"sdk_probe.mjs failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)


def _unwrap(tree: dict) -> dict:
    while True:
        if tree["t"] in WRAPPERS and "inner" in tree:
            tree = tree["inner"]
        elif tree["t"] == "pipe" and "in" in tree:
            tree = tree["out"] if tree["in"]["t"] == "transform" else tree["in"]
        else:
            return tree


def _ranges(tree: dict) -> dict:
    found: dict = {}
    for check in tree.get("checks", []):
        if check["check"] == "greater_than":
            found["minimum" if check["inclusive"] else "exclusiveMinimum"] = check["value"]
        elif check["check"] == "less_than":
            found["maximum" if check["inclusive"] else "exclusiveMaximum"] = check["value"]
    return found


def spec(tree: dict) -> dict:
    """A zod tree as our small type language: type ("a|b"; string[]; any), enum, ranges, items/values."""
    tree = _unwrap(tree)
    kind = tree["t"]
    if {"array": "element", "record": "value", "union": "options"}.get(kind, "t") not in tree:
        return {"type": "any"}  # deeper than sdk_probe.mjs describes
    if kind == "string":
        return {"type": "string"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "null":
        return {"type": "null"}
    if kind == "number":
        integer = any(c.get("format") in ("safeint", "int32", "uint32") for c in tree.get("checks", []))
        return {"type": "integer" if integer else "number", **_ranges(tree)}
    if kind in ("enum", "literal"):
        values = tree["values"]
        types = {"boolean" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "string"
                 for v in values}  # fmt: skip
        return {"type": "|".join(sorted(types)), "enum": values}
    if kind == "array":
        items = spec(tree["element"])
        if items["type"] == "string" and "enum" not in items:
            return {"type": "string[]"}
        return {"type": "array", "items": items}
    if kind == "record":
        return {"type": "object", "values": spec(tree["value"])}
    if kind in ("object", "intersection"):
        return {"type": "object"}
    if kind == "union":
        options = [spec(o) for o in tree["options"]]
        types = []
        for option in options:
            types += [t for t in option["type"].split("|") if t not in types]
        merged: dict = {"type": "|".join(types)}
        if all("enum" in o for o in options):
            merged["enum"] = [v for o in options for v in o["enum"]]
        return merged
    return {"type": "any"}


def _outcomes(probes: dict) -> dict:
    return {name: result["outcome"] for name, result in sorted(probes.items())}


def _catches(tree: dict) -> bool:
    """A .catch around the value: Claude Code replaces a bad value with 'unset' and says nothing."""
    while tree["t"] in WRAPPERS and "inner" in tree:
        if tree["t"] == "catch":
            return True
        tree = tree["inner"]
    return False


def _managed_only(probes: dict) -> bool:
    return any("only honored from managed settings" in message
               for result in probes.values() for _, message in result.get("errors", []))  # fmt: skip


def build(sdk_version: str, documented: list[str], events: list[str], probed: dict) -> dict:
    keys = {}
    for name, entry in sorted(probed["keys"].items()):
        key = {**spec(entry["schema"]), "on": _outcomes(entry["probes"])}
        if _catches(entry["schema"]):
            key["ignores_invalid"] = True
        if _managed_only(entry["probes"]):
            key["managed_only"] = True
        if name not in documented:
            key["documented"] = False
        if name in probed.get("aliases", {}):
            key["alias_of"] = probed["aliases"][name]
        tree = _unwrap(entry["schema"])
        if entry.get("fields") and tree["t"] == "object":
            key["fields"] = {
                sub: {**spec(tree["shape"][sub]), "on": _outcomes(probes),
                      **({"ignores_invalid": True} if _catches(tree["shape"][sub]) else {})}
                for sub, probes in sorted(entry["fields"].items())
            }  # fmt: skip
        keys[name] = key
    hook_cases = probed["hook_cases"]
    return {
        "cli_version": cli_for_sdk(sdk_version),
        "sdk_version": sdk_version,
        "generated_by": "tools/settings_schema.py (do not edit by hand)",
        "hook_events": events,
        "hook_types": probed["hook_types"],
        "hooks_on": {
            "unknown_event": hook_cases["unknown_event"]["outcome"],
            **{event: _outcomes(cases) for event, cases in hook_cases.items() if event != "unknown_event"},
        },
        "keys": keys,
    }


def generate(sdk_version: str, package_dir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="preflight-sdk-") as tmp:
        package = package_dir or fetch(sdk_version, Path(tmp))
        manifest = json.loads((package / "package.json").read_text())
        if manifest.get("version") != sdk_version:
            raise SystemExit(f"{package} holds SDK {manifest.get('version')}, not {sdk_version}")
        documented, events = read_dts(package)
        return build(sdk_version, documented, events, probe(package))


def dump(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdk-version", help="an SDK release, or 'latest'; default the one the data file names")
    parser.add_argument("--claude-version", help="a Claude Code release 2.1.N (picks SDK 0.3.N)")
    parser.add_argument("--package-dir", type=Path, help="an unpacked SDK package folder (no npm)")
    parser.add_argument("--write", action="store_true", help=f"write {DATA.relative_to(ROOT)}")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    current = json.loads(args.out.read_text()) if args.out.exists() else {}
    version = args.sdk_version or (args.claude_version and sdk_for_cli(args.claude_version))
    version = version or current.get("sdk_version") or latest_sdk()
    if version == "latest":
        version = latest_sdk()
    data = generate(version, args.package_dir)
    if args.write:
        args.out.write_text(dump(data))
        print(f"wrote {args.out}: Claude Code {data['cli_version']}, {len(data['keys'])} keys, "
              f"{len(data['hook_events'])} hook events")  # fmt: skip
        return 0
    if dump(data) != dump(current):
        old, new = set(current.get("keys", {})), set(data["keys"])
        print(f"{args.out.name} differs from SDK {version}: keys added {sorted(new - old)}, removed {sorted(old - new)}, "
              f"changed {sorted(k for k in old & new if current['keys'][k] != data['keys'][k])}")  # fmt: skip
        return 1
    print(f"{args.out.name} agrees with SDK {version} (Claude Code {data['cli_version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
