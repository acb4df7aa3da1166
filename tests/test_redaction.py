"""No secret reaches any output: terminal, HTML, JUnit, JSON. Fake secrets are planted everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import homes
import pytest
from test_plugin import run_suite

from claude_preflight.redact import Redactor, mask, mask_json_values

SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-PLANTEDkeyPLANTEDkeyPLANTED-k3yZ",
    "ANTHROPIC_AUTH_TOKEN": "planted-auth-token-0123456789-T0kn",
    "MY_DB_PASSWORD": "planted-db-password-Pa55",
    "CORP_SECRET_VALUE": "planted-corp-secret-value-Sec9",
}
MCP_ENV = "planted-mcp-env-value-in-user-scope-E1v9"  # an MCP env value whose name looks harmless
MCP_HEADER = "planted-mcp-header-value-H3dr"
LOCAL_ENV = "planted-local-scope-env-value-L0c4"
PROJECT_ENV = "planted-project-mcp-env-in-corrupt-file-P7j8"
KEY_TAIL = "kefake-test-key-AAAA"  # Claude Code keeps the tail of approved keys in ~/.claude.json
EVERY = [*SECRETS.values(), MCP_ENV, MCP_HEADER, LOCAL_ENV, PROJECT_ENV, KEY_TAIL]


@pytest.fixture
def planted(tmp_path, monkeypatch):
    home, project = homes.build(tmp_path / "planted")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    state = json.loads((home / ".claude.json").read_text())
    state["mcpServers"]["userstdio"]["env"] = {"PLAIN_NAME": MCP_ENV}
    state["mcpServers"]["userhttp"]["headers"] = {"X-Custom": MCP_HEADER}
    state["projects"]["/home/dev/src/proj"]["mcpServers"]["localstdio"]["env"] = {"X": LOCAL_ENV}
    state["customApiKeyResponses"] = {"approved": [KEY_TAIL], "rejected": []}
    text = json.dumps(state, indent=2)
    # Break the file on the line that holds the key tail: the parse error shows that line.
    text = text.replace(f'"{KEY_TAIL}"', f'"{KEY_TAIL}" "oops"')
    (home / ".claude.json").write_text(text)
    # A corrupt .mcp.json whose offending line holds an env value, and settings whose bad line holds a key.
    (project / ".mcp.json").write_text(
        f'{{"mcpServers": {{"p": {{"command": "x", "env": {{"TOKEN_FOR_P": "{PROJECT_ENV}"}} "args": []}}}}}}'
    )
    (home / ".claude" / "settings.json").write_text(
        '{{\n  "env": {{"ANTHROPIC_API_KEY": "{}" "MORE": "1"}}\n}}'.format(SECRETS["ANTHROPIC_API_KEY"])
    )
    return home, project


def test_no_secret_in_any_output(pytester, planted):
    junit, out = pytester.path / "junit.xml", pytester.path / "out.json"
    result = run_suite(pytester, *planted, "-rA", "-v", f"--junitxml={junit}", "--json", str(out))
    html = (pytester.path / "reports" / "claude-preflight.html").read_text()
    outputs = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "junit": junit.read_text(),
        "json": out.read_text(),
        "html": html,
    }
    # The run really reported the broken files (so their lines were shown, masked).
    assert "user state (~/.claude.json) is not valid JSON" in outputs["terminal"]
    assert "project MCP servers (.mcp.json) is not valid JSON" in outputs["terminal"]
    for where, text in outputs.items():
        for secret in EVERY:
            assert secret not in text, f"{secret[:12]}... leaked into the {where} output"
            assert secret[:-4] not in text, f"most of {secret[:12]}... leaked into the {where} output"


def test_metadata_table_is_an_allowlist(pytester, planted, monkeypatch):
    monkeypatch.setenv("JENKINS_URL", "http://ci.example/planted-ci-url")  # pytest-metadata copies CI variables
    run_suite(pytester, *planted)
    html = (pytester.path / "reports" / "claude-preflight.html").read_text()
    assert "planted-ci-url" not in html and "JENKINS_URL" not in html
    assert "claude-preflight" in html


@pytest.mark.parametrize(
    "text, secret",
    [
        ("x sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123 y", "abcdefghijklmnopqrstuvwxyz0123"),
        ("Authorization: Bearer abcdefghijklmnop9999", "abcdefghijklmnop"),
        ('{"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstu"}', "abcdefghijklmnopqrstu"),
        ("export OPENAI_API_KEY=abcdefghijkl5678", "abcdefghijkl"),
        ("AKIAABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP"),
        ("through the proxy http://alice:s3cret-proxy-pass@proxy.corp:3128 (CONNECT)", "s3cret-proxy-pass"),
    ],
)
def test_patterns_catch_secrets_nobody_told_us_about(text, secret):
    assert secret not in Redactor()(text)


def test_known_values_keep_at_most_the_last_four():
    redact = Redactor(["a-very-long-secret-value-WXYZ", "short1"])
    assert redact("see a-very-long-secret-value-WXYZ") == "see …WXYZ"
    assert redact("value short1 here") == "value **** here"
    assert redact("abc true 1") == "abc true 1"  # short values are not redacted by value
    assert mask("123456789012345") == "****"


def test_a_text_redacted_before_a_secret_was_learnt_is_masked_after():
    """The redactor remembers texts it has redacted; a secret learnt later (an apiKeyHelper's output) or a source
    that could not be read (strict: mask more) must not be answered from that memory."""
    from claude_preflight.redact import SecretSet

    learned: set[str] = set()
    redact = Redactor(learned=learned)
    line = "helper printed learnt-secret-0123456789 and abcdefghijklmnopqrstuvwxyz0123456789"
    assert redact(line) == line  # nothing known yet, and not strict
    learned.add("learnt-secret-0123456789")
    assert "learnt-secret" not in redact(line) and "…6789" in redact(line)
    unreadable = SecretSet()
    unreadable.complete = False
    redact.add(unreadable)
    assert "abcdefghijklmnopqrstuvwxyz" not in redact(line)


def test_masking_a_json_line_keeps_keys_and_short_values():
    line = '  "env": {"NAME": "a-long-secret-value-1234", "version": "2.1.330"},'
    assert mask_json_values(line) == '  "env": {"NAME": "…1234", "version": "2.1.330"},'


def test_redactor_walks_json_documents():
    redact = Redactor(["planted-secret-0000"])
    doc = {"a": ["x planted-secret-0000"], "b": {"c": "planted-secret-0000"}, "n": 3}
    assert "planted-secret" not in json.dumps(redact.value(doc))


def test_secret_files_are_read_within_bounds(tmp_path):
    from claude_preflight.env import Env
    from claude_preflight.probes.secrets import collect_secrets

    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "oauth-access-token-1234"}}')
    env = Env(home=home, project=tmp_path, sysroot=Path("/nonexistent"), environ={"PATH": "/bin"})
    assert "oauth-access-token-1234" in collect_secrets(env, 1_000_000)


def test_network_family_never_shows_the_key(pytester, tmp_path, monkeypatch):
    """The key reaches a real HTTPS server and is rejected; no output may carry it."""
    from servers import KEY_PREFIX, tls_api

    server, ca = tls_api(tmp_path)
    key = f"{KEY_PREFIX}plantedplanted-401"
    try:
        home, project = homes.build(tmp_path / "net")
        monkeypatch.setenv("ANTHROPIC_API_KEY", key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f"https://localhost:{server.port}")
        monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(ca))
        junit, out = pytester.path / "junit.xml", pytester.path / "out.json"
        result = run_suite(pytester, home, project, "-k", "network", "-rA", f"--junitxml={junit}", "--json", str(out),
                           "--live", machine=True)  # fmt: skip
        assert key in server.seen_keys  # it really was sent
        assert "rejects the credentials (401)" in result.stdout.str()
        html = (pytester.path / "reports" / "claude-preflight.html").read_text()
        for where, text in {
            "terminal": result.stdout.str(),
            "junit": junit.read_text(),
            "json": out.read_text(),
            "html": html,
        }.items():
            assert key not in text and key[:-4] not in text, f"the key leaked into the {where} output"
    finally:
        server.stop()


def test_mcp_env_and_header_values_never_show(pytester, tmp_path, monkeypatch):
    """Servers whose env and headers hold secrets, one failing with the secret in its stderr: none may show."""
    import sys

    tiny = str(Path(__file__).parent / "mcp_servers" / "tiny.py")
    env_secret, header_secret = "mcp-env-secret-value-Q9z8", "mcp-header-secret-value-R7y6"
    home, project = homes.build(tmp_path / "mcp")
    state = {"mcpServers": {
        "leaky": {"command": sys.executable, "args": ["-c", f"import sys; sys.stderr.write('token {env_secret} rejected'); sys.exit(1)"],
                  "env": {"SERVICE_CREDENTIAL": env_secret}},
        "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"X-Api": header_secret}},
        "ok": {"command": sys.executable, "args": [tiny, "ok"], "env": {"PLAIN": env_secret}},
    }}  # fmt: skip
    (home / ".claude.json").write_text(json.dumps(state))
    junit, out = pytester.path / "junit.xml", pytester.path / "out.json"
    result = run_suite(
        pytester, home, project, "-k", "mcp", "-rA", f"--junitxml={junit}", "--json", str(out), machine=True
    )
    text = result.stdout.str()
    assert "user:leaky" in text and "rejected" in text  # its stderr was reported, with the secret masked
    html = (pytester.path / "reports" / "claude-preflight.html").read_text()
    for where, output in {"terminal": text, "junit": junit.read_text(), "json": out.read_text(), "html": html}.items():
        for secret in (env_secret, header_secret):
            assert secret not in output and secret[:-4] not in output, f"{secret} leaked into the {where} output"
