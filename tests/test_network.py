"""The network family against real servers on 127.0.0.1: an HTTPS API stand-in and a CONNECT proxy.

No mock of the HTTP layer: every request crosses a real socket, TLS handshake and proxy tunnel.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest
from caserunner import FIXTURES, load_checks
from servers import KEY_PREFIX, ConnectProxy, tls_api

from claude_preflight.checking import REGISTRY, run
from claude_preflight.env import Env
from claude_preflight.outcome import Status
from claude_preflight.policy import Policy
from claude_preflight.probes import network

FAST = Policy(network_timeout_s=1.5, probe_timeout_s=2)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server, ca = tls_api(tmp_path_factory.mktemp("ca"))
    yield server, ca
    server.stop()


@pytest.fixture
def proxy():
    p = ConnectProxy()
    yield p
    p.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_env(tmp_path: Path, **environ: str) -> Env:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    return Env(home=home, project=tmp_path, environ={"PATH": os.environ["PATH"], **environ})


def check(check_id: str, env: Env, policy: Policy = FAST):
    load_checks()
    result = run(REGISTRY[check_id], env, policy)
    for value in env.environ.values():  # no secret in any result text
        if value.startswith(KEY_PREFIX):
            assert value not in result.text() and value[:-4] not in result.text()
    return result


def api_env(tmp_path, api, suffix: str, **extra) -> Env:
    server, ca = api
    return make_env(tmp_path, ANTHROPIC_API_KEY=f"{KEY_PREFIX}{suffix}", ANTHROPIC_BASE_URL=f"https://localhost:{server.port}",
                    NODE_EXTRA_CA_CERTS=str(ca), **extra)  # fmt: skip


@pytest.mark.parametrize(
    "suffix, status, words",
    [
        ("ok", Status.OK, ["the API accepts the credentials", "HTTP 200"]),
        ("401", Status.FAIL, ["rejects the credentials (401)", "about 190 s", "invalid x-api-key"]),
        ("403", Status.FAIL, ["not allowed to do this (403)", "does not retry a 403"]),
        ("429", Status.WARN, ["rate limited (429)", "retry-after: 7", "anthropic-ratelimit-requests-remaining: 0"]),
        ("500", Status.WARN, ["(500): Out of memory", "request-id: req_500_test"]),
        ("529", Status.WARN, ["(529): Overloaded", "status.anthropic.com"]),
        ("hang", Status.FAIL, ["first byte failed (timed out)", "API_TIMEOUT_MS"]),
        ("cut", Status.FAIL, ["body failed", "cut it"]),
    ],
)
def test_key_check_maps_every_answer(tmp_path, api, suffix, status, words):
    result = check("network.api-key", api_env(tmp_path, api, suffix))
    assert result.status is status, result.text()
    for word in words:
        assert word in result.text()
    assert f"{KEY_PREFIX}{suffix}" in api[0].seen_keys  # the key really reached the server


def test_bearer_token_and_masking(tmp_path, api):
    server, ca = api
    token = f"{KEY_PREFIX}ok"
    env = make_env(tmp_path, ANTHROPIC_AUTH_TOKEN=token, ANTHROPIC_BASE_URL=f"https://localhost:{server.port}",
                   NODE_EXTRA_CA_CERTS=str(ca))  # fmt: skip
    result = check("network.api-key", env)
    assert result.status is Status.OK and "ANTHROPIC_AUTH_TOKEN (…t-ok)" in result.text()


def test_untrusted_certificate_fails_naming_the_issuer(tmp_path, api):
    server, _ = api
    env = make_env(tmp_path, ANTHROPIC_API_KEY=f"{KEY_PREFIX}ok", ANTHROPIC_BASE_URL=f"https://localhost:{server.port}")
    tls = check("network.tls", env)
    assert tls.status is Status.FAIL
    assert "Preflight Test Corp" in tls.text() and "export NODE_EXTRA_CA_CERTS=" in tls.remediation
    assert check("network.api-key", env).status is Status.FAIL
    trusted = check("network.tls", api_env(tmp_path, api, "ok"))
    assert trusted.status is Status.OK and "NODE_EXTRA_CA_CERTS" in trusted.summary


def cut_survey(tmp_path, api, cuts: int) -> network.Survey:
    """A real survey of the API whose first `cuts` connections a firewall closes after the ClientHello."""
    server, _ = api
    server.handshakes_to_cut = cuts
    try:
        env = make_env(tmp_path, ANTHROPIC_BASE_URL=f"https://localhost:{server.port}")
        return network.survey(env, FAST)
    finally:
        server.handshakes_to_cut = 0


def test_a_cut_handshake_is_not_an_untrusted_certificate(tmp_path, api):
    """Every handshake cut: the certificate was never seen, so TLS says nothing of trust, and latency names the cut
    as the real Claude Code reports it."""
    from claude_preflight.probes.network import ca_file
    from claude_preflight.rules.network import evaluate_latency, evaluate_tls

    cut = cut_survey(tmp_path, api, cuts=100)
    assert [(x.error_phase, x.untrusted) for x in cut.samples] == [("tls", False)] * FAST.latency_samples
    ca = ca_file(make_env(tmp_path), FAST.config_max_bytes)
    tls = evaluate_tls(cut, ca, keychain=("O=Other Corp",))
    assert tls.status is Status.SKIP and "did not complete" in tls.summary, tls.text()
    latency = evaluate_latency(cut, FAST)
    assert latency.status is Status.FAIL and "firewall, VPN or proxy cut it" in latency.remediation, latency.text()
    assert "NODE_EXTRA_CA_CERTS" not in latency.remediation
    # What the real CLI 2.1.330 wrote when a loopback server cut every handshake (tests/fixtures/real-claude).
    real = (Path(__file__).parent / "fixtures/real-claude/transcripts/err.print-tls-cut.jsonl").read_text()
    quoted = latency.remediation.split("stops with '", 1)[1].split("'", 1)[0]
    assert quoted == "API Error: Connection dropped (ECONNRESET)" and f'"text":"{quoted}.' in real
    assert '"isSSLError":false' in real  # to Claude Code a cut is a dropped connection, not a certificate problem


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_one_cut_handshake_among_the_samples_does_not_hide_the_certificate(tmp_path, api, platform):
    """The CI failure of stop 23: the first sample's handshake was cut, the others saw the certificate. The verdict
    comes from the certificate: untrusted (linux), or trusted by the Keychain (a Mac that holds the CA)."""
    from claude_preflight.net import certificate_subject
    from claude_preflight.probes.network import ca_file
    from claude_preflight.rules.network import evaluate_latency, evaluate_tls

    server, ca_pem = api
    cut = cut_survey(tmp_path / "cut", api, cuts=100).samples[0]
    untrusted = cut_survey(tmp_path / "seen", api, cuts=0)
    untrusted.samples[0:1] = [cut]  # the cut first, as the CI run saw it
    untrusted.platform = platform
    keychain = (certificate_subject(ca_pem.read_text()),) if platform == "darwin" else None
    tls = evaluate_tls(untrusted, ca_file(make_env(tmp_path), FAST.config_max_bytes), keychain)
    if platform == "darwin":
        assert tls.status is Status.OK and "in the macOS Keychain" in tls.summary, tls.text()
    else:
        assert tls.status is Status.FAIL and "Preflight Test Corp" in tls.summary, tls.text()
    latency = evaluate_latency(untrusted, FAST)
    assert latency.status is Status.FAIL and "certificate verify failed" in latency.summary, latency.text()


def test_latency_phases_direct_and_slow(tmp_path, api):
    result = check("network.latency", api_env(tmp_path, api, "ok"))
    assert result.status is Status.OK
    assert "direct (no proxy applies)" in result.text() and "tls" in result.text() and "dns" in result.text()
    assert len([line for line in result.evidence if line.startswith("sample ")]) == 3


def test_slow_first_byte_warns_and_fails_by_threshold(tmp_path, api):
    server, _ = api
    server.delay = 0.4
    try:
        env = api_env(tmp_path, api, "ok")
        warned = check("network.latency", env, Policy(latency_warn_s=0.2, latency_fail_s=5))
        failed = check("network.latency", api_env(tmp_path, api, "ok"), Policy(latency_warn_s=0.1, latency_fail_s=0.2))
    finally:
        server.delay = 0
    assert warned.status is Status.WARN and "(over 0.2 s)" in warned.summary
    assert failed.status is Status.FAIL and "(over 0.2 s)" in failed.summary


def test_unreachable_base_url_fails_with_the_phase(tmp_path):
    env = make_env(
        tmp_path, ANTHROPIC_API_KEY=f"{KEY_PREFIX}ok", ANTHROPIC_BASE_URL=f"https://127.0.0.1:{closed_port()}"
    )
    result = check("network.latency", env)
    assert result.status is Status.FAIL and "connect failed" in result.summary


def test_through_a_connect_proxy_and_no_proxy_bypass(tmp_path, api, proxy):
    env = api_env(tmp_path, api, "ok", HTTPS_PROXY=proxy.url)
    latency = check("network.latency", env)
    assert latency.status is Status.OK and f"through the proxy {proxy.url} (CONNECT)" in latency.text()
    assert "proxy " in latency.text()  # the proxy phase is timed
    assert check("network.api-key", env).status is Status.OK
    assert len(proxy.tunnels) >= 4 and all(t.startswith("localhost:") for t in proxy.tunnels)
    before = len(proxy.tunnels)
    bypassed = check("network.latency", api_env(tmp_path, api, "ok", HTTPS_PROXY=proxy.url, NO_PROXY="localhost"))
    assert "direct (no proxy applies)" in bypassed.text() and len(proxy.tunnels) == before


def test_dead_proxy_fails_with_that_reason(tmp_path, api):
    env = api_env(tmp_path, api, "ok", HTTPS_PROXY=f"http://127.0.0.1:{closed_port()}")
    result = check("network.latency", env)
    assert result.status is Status.FAIL and "connect (proxy) failed" in result.summary
    assert "HTTPS_PROXY" in result.remediation


@pytest.mark.parametrize(
    "suffix, status, words",
    [
        ("ok", Status.OK, ["a streamed reply completed", "7 events"]),
        (
            "streamcut",
            Status.FAIL,
            ["did not complete", "without message_stop", "message_start, content_block_start, ping"],
        ),
        ("streamerror", Status.FAIL, ["in-stream error", "Overloaded"]),
    ],
)
def test_streaming_with_live(tmp_path, api, suffix, status, words):
    result = check("network.streaming", api_env(tmp_path, api, suffix), Policy(network_timeout_s=2, live=True))
    assert result.status is status, result.text()
    for word in words:
        assert word in result.text()
    sent = api[0].posted[-1]
    assert sent["max_tokens"] == 1 and sent["stream"] is True


def test_streaming_without_live_sends_nothing(tmp_path, api):
    before = len(api[0].posted)
    result = check("network.streaming", api_env(tmp_path, api, "ok"))
    assert result.status is Status.SKIP and "--live" in result.summary and len(api[0].posted) == before


def test_plain_http_key_is_only_sent_to_loopback(tmp_path):
    env = make_env(tmp_path, ANTHROPIC_API_KEY=f"{KEY_PREFIX}ok", ANTHROPIC_BASE_URL="http://203.0.113.9:8080")
    survey = network.survey(env, FAST)
    assert survey.key_check is None and "clear text" in survey.refused
    assert check("network.api-key", env).status is Status.FAIL


def test_plain_http_to_loopback_is_allowed(tmp_path):
    server = __import__("servers").ApiServer(None)
    try:
        env = make_env(
            tmp_path, ANTHROPIC_API_KEY=f"{KEY_PREFIX}401", ANTHROPIC_BASE_URL=f"http://127.0.0.1:{server.port}"
        )
        assert check("network.api-key", env).status is Status.FAIL
        assert f"{KEY_PREFIX}401" in server.seen_keys
        assert check("network.tls", env).status is Status.SKIP
    finally:
        server.stop()


def test_offline_skips_every_network_request(tmp_path, api):
    before = len(api[0].seen_keys)
    load_checks()
    policy = Policy(offline=True)
    env = api_env(tmp_path, api, "ok")
    for check_id in ("network.api-key", "network.latency", "network.tls", "network.streaming"):
        result = run(REGISTRY[check_id], env, policy)
        assert result.status is Status.SKIP and "--offline" in result.summary
    assert len(api[0].seen_keys) == before


SHAPES = FIXTURES / "credentials" / "shapes.jsonl"


@pytest.mark.parametrize(
    "record", [json.loads(line) for line in SHAPES.read_text().splitlines()], ids=lambda r: r["case"]
)
def test_a_credentials_shape_is_judged_as_the_real_cli_treated_it(tmp_path, record):
    """shapes.jsonl: what Claude Code 2.1.330 printed and sent for each shape of credential, against a loopback API
    answering 401 (see the MANIFEST). Refused there (nothing sent): a fail quoting its words. Trimmed and sent:
    not a problem. Sent with quotes, spaces or a control character in the key: a fail (the API rejects it)."""
    from claude_preflight.probes.secrets import collect_secrets
    from claude_preflight.redact import Redactor
    from claude_preflight.rules.network import evaluate_credentials

    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    if record["apiKeyHelper"]:
        (home / ".claude" / "settings.json").write_text(json.dumps({"apiKeyHelper": record["apiKeyHelper"]}))
    env = Env(home=home, project=tmp_path, environ={"PATH": os.environ["PATH"], **record["env"]})
    credential = network.credentials(env, 10, 1 << 20)
    result = evaluate_credentials(credential, 0, Policy())
    text = "\n".join([result.summary, *result.evidence, result.remediation or ""])
    keys_sent = {v.removeprefix("Bearer").strip() for headers in record["sent"] for v in headers.values() if v} - {""}
    if not keys_sent:  # Claude Code would not send it
        assert result.status is Status.FAIL
        quoted = text.split('stops at once with "', 1)[1].split('".', 1)[0]
        parts = [part.strip(" ·") for part in quoted.split("…") if part.strip(" ·")]
        assert parts and all(part in record["printed"] for part in parts)
        shown = Redactor(collect_secrets(env, 1 << 20))(text)
        assert all(part in shown for part in parts)  # the quote survives redaction whole
    elif any(re.search(r"[\s'\"\x00-\x1f]", key) for key in keys_sent):
        assert result.status is Status.FAIL and "sent exactly as set" in text
    else:  # sent, trimmed: the key we judge is the key it sent
        assert result.status is not Status.FAIL, text
        assert credential.value.strip() in keys_sent


def test_what_the_untrusted_helper_skip_says_of_claude_code_is_what_it_did():
    """project-helper-trust.jsonl: `claude -p` ran a project's apiKeyHelper whatever the folder's trust; an
    interactive session showed its trust dialog first and had not run it."""
    from claude_preflight.probes.network import Credential
    from claude_preflight.rules.network import evaluate_credentials

    rows = [json.loads(line) for line in (SHAPES.parent / "project-helper-trust.jsonl").read_text().splitlines()]
    helper = Credential("apiKeyHelper", detail=("apiKeyHelper from p/.claude/settings.json: ./key.sh",), untrusted=True)
    said = "\n".join(evaluate_credentials(helper, 0, Policy()).evidence)
    printed = [row for row in rows if row["mode"].startswith("claude -p")]
    interactive = [row for row in rows if row["mode"].startswith("claude (interactive")]
    assert printed and all(row["helper_ran"] for row in printed) and "`claude -p` does not ask" in said
    assert interactive and not any(row["helper_ran"] for row in interactive)
    dialog = said.split('its trust dialog: "', 1)[1].split('"', 1)[0]
    assert all(dialog in row["printed"] for row in interactive)


@pytest.mark.parametrize(
    "record",
    [json.loads(line) for line in (SHAPES.parent / "rejected.jsonl").read_text().splitlines()],
    ids=lambda r: r["case"],
)
def test_what_a_rejected_credential_costs_is_what_the_real_cli_did(tmp_path, record):
    """rejected.jsonl: Claude Code 2.1.330 against a loopback API answering 401, a key or token sent in quotes. The
    key and the auth token were retried 10 times (3 minutes); the OAuth token was given up after 2 requests."""
    from claude_preflight.rules.network import evaluate_credentials

    env = Env(home=tmp_path, project=tmp_path, environ={"PATH": os.environ["PATH"], **record["env"]})
    result = evaluate_credentials(network.credentials(env, 10, 1 << 20), 0, Policy())
    assert result.status is Status.FAIL and "sent exactly as set" in result.remediation
    if record["requests"] > 2:
        assert "retries a rejected" in result.remediation and "10 times" in result.remediation
        assert record["requests"] == 11 and record["seconds"] > 120
    else:
        assert "10 times" not in result.remediation and "within seconds" in result.remediation
    if "ANTHROPIC_API_KEY" not in record["env"]:  # a key's last words follow the API's message (shapes.jsonl)
        last = "Failed to authenticate. API Error: 401"
        assert last in record["printed"] and f'"{last} …"' in result.remediation
