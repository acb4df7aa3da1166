"""The vendored settings schema (data/settings-schema.json): what it says, and that its generator still writes it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from claude_preflight.rules import settings_schema as schema

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import settings_schema as generator  # noqa: E402  (tools/settings_schema.py)


def test_the_data_names_the_release_it_matches():
    assert schema.CLI_VERSION == "2.1." + schema.SDK_VERSION.split(".")[2]
    assert generator.sdk_for_cli(schema.CLI_VERSION) == schema.SDK_VERSION
    assert len(schema.SETTINGS_KEYS) >= 200 and len(schema.HOOK_EVENTS) >= 34


def test_facts_measured_on_claude_code_2_1_332():
    keys = schema.keys()
    assert {"DirectoryAdded", "PreModelSwitch", "PostModelSwitch", "PreSkillShellCommand"} <= schema.HOOK_EVENTS
    assert keys["autoCompactWindow"].type == "integer" and keys["autoCompactWindow"].minimum == 100000
    assert keys["autoCompactWindow"].ignores_invalid
    assert keys["forceLoginOrgUUID"].type == "string|string[]"
    assert keys["managedMcpServers"].managed_only and keys["managedMcpServers"].type == "object"
    assert keys["cleanupPeriodDays"].exclusive_minimum == 0 and keys["cleanupPeriodDays"].on["range"] == "drop"
    assert "yolo" not in keys["permissions"].fields["defaultMode"].enum
    assert keys["permissions"].fields["defaultMode"].on["enum"] == "drop"
    for name in ("hooks", "allowedMcpServers", "deniedMcpServers", "extraKnownMarketplaces"):
        assert keys[name].on["entry"] == "skip", name
    assert not {"autoUpdates", "leftArrowOpensAgents", "skippedMarketplaces", "sshHostAllowlist"} & set(keys)
    assert schema.HOOKS_ON["unknown_event"] == "skip" and schema.HOOKS_ON["PreToolUse"]["bad_type"] == "drop"
    assert set(schema.HOOK_TYPES) >= {"command", "prompt", "agent", "http"}


def test_the_json_report_names_the_schema_release():
    from claude_preflight.report import json_document

    assert json_document([], "2.1.330")["host"]["settings_schema_version"] == schema.CLI_VERSION


def test_spec_reads_zod_trees():
    assert generator.spec({"t": "optional", "inner": {"t": "array", "element": {"t": "string"}}}) == {
        "type": "string[]"
    }
    number = {"t": "number", "checks": [{"check": "number_format", "format": "safeint"},
                                        {"check": "greater_than", "value": 0, "inclusive": False}]}  # fmt: skip
    assert generator.spec({"t": "catch", "inner": number}) == {"type": "integer", "exclusiveMinimum": 0}
    union = {"t": "union", "options": [{"t": "enum", "values": ["a"]}, {"t": "literal", "values": ["b"]}]}
    assert generator.spec(union) == {"type": "string", "enum": ["a", "b"]}
    preprocess = {"t": "pipe", "in": {"t": "transform"}, "out": {"t": "boolean"}}
    assert generator.spec(preprocess) == {"type": "boolean"}
    assert generator.spec({"t": "union"}) == {"type": "any"}  # deeper than the probe describes


def test_the_generator_writes_the_vendored_file(tmp_path):
    """Regenerate from the SDK release the data names (npm pack, no install) and compare byte for byte."""
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("npm and node are needed to read Claude Code's SDK")
    pack = subprocess.run(["npm", "pack", f"{generator.PACKAGE}@{schema.SDK_VERSION}", "--silent",
                           "--pack-destination", str(tmp_path)], capture_output=True, text=True, timeout=300)  # fmt: skip
    if pack.returncode and any(word in pack.stderr for word in ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED")):
        pytest.skip(f"the npm registry cannot be reached: {pack.stderr.strip()[-200:]}")
    assert pack.returncode == 0, pack.stderr
    out = tmp_path / "settings-schema.json"
    out.write_text((ROOT / "src/claude_preflight/data/settings-schema.json").read_text())
    tarball = next(tmp_path.glob("*.tgz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path, filter="data")
    assert generator.main(["--package-dir", str(tmp_path / "package"), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == schema.raw_data()
