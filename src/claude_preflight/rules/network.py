"""Rules for credentials, the key check, latency, CA certificates and TLS, streaming and timeouts."""

from __future__ import annotations

import json

from claude_preflight.net import Exchange
from claude_preflight.outcome import Finding, Result, Status, combine, fail, ok, skip, warn
from claude_preflight.policy import Policy
from claude_preflight.probes.network import CaFile, Credential, KeyProblem, Survey, Timeouts
from claude_preflight.redact import mask
from claude_preflight.values import whole_number

DOCS_AUTH = "https://code.claude.com/docs/en/iam"
# The key's shape without a value our own redactor would mask (a value after KEY= is masked as a secret).
EXPORT_KEY = "export ANTHROPIC_API_KEY=<key>   # your key from console.anthropic.com: sk-ant-..."
EXPORTS = {  # how each variable Claude Code reads a credential from is set again
    "ANTHROPIC_API_KEY": EXPORT_KEY,
    "ANTHROPIC_AUTH_TOKEN": "export ANTHROPIC_AUTH_TOKEN=...   # the bearer token your gateway or proxy expects",
    "CLAUDE_CODE_OAUTH_TOKEN": "export CLAUDE_CODE_OAUTH_TOKEN=...   # what `claude setup-token` printed",
}
DOCS_NET = "https://code.claude.com/docs/en/network-config"
RETRY_DELAYS_S = (0.6, 1.1, 2.5, 4.5, 9.8, 18, 34, 36, 32, 39)  # Claude Code 2.1.330's backoff, observed
KEYCHAIN_LOCKED = """\
On macOS Claude Code keeps its login in the login Keychain. In an SSH session (or after the keychain locked itself)
it cannot read it, and Claude Code stops with an authentication error. Unlock it in this session:
  security unlock-keychain ~/Library/Keychains/login.keychain-db
For unattended runs, make a long-lived token once on a desktop session and export it instead:
  claude setup-token
  export CLAUDE_CODE_OAUTH_TOKEN=...   # in ~/.zshrc"""
HANG = (
    "Claude Code retries a rejected key 10 times (about 190 s): it looks like a 3-minute hang before "
    '"Invalid API key · Fix external API key".'
)


def _rejected(c: Credential) -> str:
    """What Claude Code 2.1.330 does when the API answers 401 to this credential (credentials/rejected.jsonl)."""
    if c.source == "CLAUDE_CODE_OAUTH_TOKEN":
        return 'Claude Code gives up after 2 requests, within seconds: "Failed to authenticate. API Error: 401 …".'
    if c.source == "ANTHROPIC_AUTH_TOKEN":
        return (
            "Claude Code retries a rejected token 10 times (about 180 s): it looks like a 3-minute hang before "
            '"Failed to authenticate. API Error: 401 …".'
        )
    if c.header == "x-api-key":
        return HANG
    return "Claude Code stops with an authentication error."  # a login's token: not recorded


# What Claude Code 2.1.330 does with a credential's shape (driven against a loopback API): it trims whitespace and
# newlines around it; it refuses to send one with a line break or a character past U+00FF inside; it sends quotes,
# inner spaces and other control characters as they are, and the API rejects the key.
REFUSED = ("line-break", "not-latin1")
SENT_AS_SET = ("quoted", "whitespace", "control")


def _refusal(c: Credential, p: KeyProblem) -> str:
    """Claude Code's own words when it refuses a credential, as 2.1.330 prints them."""
    what = "a line break" if p.code == "line-break" else "a non-ASCII character"
    if c.source == "apiKeyHelper":
        return f'"apiKeyHelper failed: returned output that cannot be used as an API key: it contains {what} …".'
    if c.source in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        lead = (
            "Invalid API key · Fix external API key"
            if c.header == "x-api-key"
            else "Invalid auth token · Fix external auth token"
        )
        # The header's name is left out of the quote: "X-Api-Key header" reads to the redactor as a flag and its value.
        return f'"{lead} · … from {c.source}: it contains {what} …".'
    return f"an invalid key error (the key contains {what})."


def _set_again(c: Credential, how: str) -> str:
    """How to give Claude Code the credential again, `how` (the key alone on one line, ...), where it came from."""
    if c.source == "apiKeyHelper":
        command = c.detail[0].split(": ", 1)[-1] if c.detail else "<your apiKeyHelper command>"
        return (
            f"Make apiKeyHelper print {how}, and nothing else. What it prints now, byte by byte:\n  {command} | od -c"
        )
    if c.source == "keychain-api-key":
        return f"Log in again and give {how}:\n  claude auth logout\n  claude auth login --console"
    example = EXPORTS.get(c.source, EXPORT_KEY)
    return (
        f"Set it again, {how}, where it is set (~/.bashrc, ~/.zshrc, or `env` in ~/.claude/settings.json):\n  {example}"
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _who(c: Credential) -> str:
    return f"{c.source} (…{c.value.strip()[-4:]})" if c.value and len(c.value.strip()) >= 16 else c.source


def problem_text(p: KeyProblem) -> str:
    """A credential problem in words (the probe gives only its code and what it concerns)."""
    return {
        "padded": f"{p.subject} has leading or trailing whitespace or a newline, which Claude Code trims before "
        "sending it (2.1.330 does): not a problem",
        "quoted": f"{p.subject} is wrapped in quotes (they are sent as part of the key)",
        "line-break": f"{p.subject} holds a line break",
        "whitespace": f"{p.subject} contains whitespace",
        "not-latin1": f"{p.subject} holds a character no HTTP header can carry",
        "control": f"{p.subject} holds a control character (sent as part of the key)",
        "not-anthropic": f"{p.subject} does not look like an Anthropic key (they start with sk-ant-)",
        "no-region": f"no {p.subject}"
        + (" (or AWS_DEFAULT_REGION): Claude Code needs it for Bedrock" if p.subject == "AWS_REGION" else ""),
        "no-aws-credentials": "no AWS credentials: no AWS_BEARER_TOKEN_BEDROCK, access keys, AWS_PROFILE or "
        "~/.aws files",
        "no-project": f"no {p.subject}",
        "missing-credentials-file": f"GOOGLE_APPLICATION_CREDENTIALS names a missing file: {p.subject}",
        "no-google-credentials": "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS or run "
        "`gcloud auth application-default login`",
    }[p.code]


def evaluate_credentials(c: Credential, now_ms: float, policy: Policy) -> Result:
    evidence = list(c.detail)
    if c.value:
        evidence.append(f"credential: {mask(c.value.strip())}")
    if c.source == "none":
        return fail(
            "no credentials: Claude Code will ask you to log in",
            *evidence,
            remediation="Claude Code finds no API key, token, apiKeyHelper or login, so every request fails "
            "(or `claude -p` stops at the login prompt). Log in once with:\n  claude auth login\n"
            f"or export a key in your shell profile:\n  {EXPORT_KEY}\n"
            "In CI or a container, make a long-lived token once where you can log in, and set "
            "CLAUDE_CODE_OAUTH_TOKEN to what it prints:\n  claude setup-token",
            docs=DOCS_AUTH,
        )
    if c.source == "keychain-locked":
        return fail(
            "the login Keychain is locked: Claude Code cannot read your login",
            *evidence,
            remediation=KEYCHAIN_LOCKED,
            docs=DOCS_AUTH,
        )
    if c.untrusted:
        command = c.detail[0].split(": ", 1)[-1]
        return skip(
            "apiKeyHelper not run: it comes from the project's own settings and this folder is not trusted",
            *evidence,
            'An interactive Claude Code asks first (its trust dialog: "Trusting this folder loads '
            '.claude/settings.json (runs commands)"), but `claude -p` does not ask: it runs this command at once '
            "(2.1.330). claude-preflight runs nothing a project's files define in a folder you have not trusted. "
            "Read the command; if you trust it, check it by hand with:",
            f"  {command}",
        )
    if c.error:
        return fail(
            f"apiKeyHelper failed: {c.error}",
            *evidence,
            remediation="Claude Code runs apiKeyHelper before requests; when it fails, every request is "
            "unauthenticated. Run the command yourself to see why:\n  " + c.detail[0].split(": ", 1)[-1],
            docs=DOCS_AUTH,
        )
    if c.source in ("bedrock", "vertex") and c.problems:
        provider = "Amazon Bedrock" if c.source == "bedrock" else "Google Vertex AI"
        said = [problem_text(p) for p in c.problems]
        return fail(
            f"{provider} is selected but not configured: {said[0]}",
            *evidence,
            *said,
            remediation=f"Every request to {provider} fails until these are set in the shell that starts "
            "Claude Code (settings.json `env` works too).",
            docs=DOCS_AUTH,
        )
    findings = []
    evidence += [problem_text(p) for p in c.problems if p.code == "padded"]
    refused = [p for p in c.problems if p.code in REFUSED]
    sent = [p for p in c.problems if p.code in SENT_AS_SET]
    if refused:
        findings.append(
            Finding(
                Status.FAIL,
                f"{c.source} is malformed: {problem_text(refused[0])}",
                f"Claude Code does not send it: it stops at once with {_refusal(c, refused[0])} "
                + _set_again(c, "the key alone on one line"),
            )
        )
    elif sent:
        findings.append(
            Finding(
                Status.FAIL,
                f"{c.source} is malformed: {problem_text(sent[0])}",
                f"The key is sent exactly as set, so the API rejects it. {_rejected(c)} "
                + _set_again(c, "the key without quotes or spaces"),
            )
        )
    unlike = [p for p in c.problems if p.code == "not-anthropic"]
    if unlike:
        findings.append(
            Finding(
                Status.WARN,
                problem_text(unlike[0]),
                "Check that the variable holds an Anthropic "
                "API key (console.anthropic.com → API keys), not another provider's.",
            )
        )
    if c.source == "oauth" and c.expires_at_ms:
        minutes = (c.expires_at_ms - now_ms) / 60000
        evidence.append(f"OAuth access token expires in {minutes:.0f} min")
        if minutes < policy.oauth_expiry_warn_minutes:
            findings.append(
                Finding(
                    Status.WARN,
                    "the OAuth login has expired" if minutes <= 0 else f"the OAuth login expires in {minutes:.0f} min",
                    "Claude Code refreshes the token itself when it can; if the refresh fails the "
                    "session stops with an authentication error. Log in again:\n  claude auth login",
                )
            )
    return combine(findings, evidence, f"credentials in use: {_who(c)}", DOCS_AUTH)


def _limits(x: Exchange) -> list[str]:
    keys = ["retry-after", "request-id"] + sorted(k for k in x.headers if k.startswith("anthropic-ratelimit-"))
    return [f"{k}: {x.headers[k]}" for k in keys if k in x.headers]


def _error_text(x: Exchange) -> str:
    try:
        return json.loads(x.body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return x.body[:200].decode("utf-8", "replace")


def _failed_phase(x: Exchange, base: str, platform: str = "linux") -> Result:
    via = f" through the proxy {x.via_proxy}" if x.via_proxy else ""
    evidence = [
        f"{base}{via}: {x.error_phase} failed: {x.error}",
        *(f"{k}: {v * 1000:.0f} ms" for k, v in x.phases.items()),
    ]
    if x.issuer:
        evidence.append(f"the server's certificate was issued by: {x.issuer}")
    return fail(
        f"cannot reach {base}{via}: {x.error_phase} failed ({x.error})",
        *evidence,
        remediation=_phase_advice(x, platform),
        docs=DOCS_NET,
    )


def _phase_advice(x: Exchange, platform: str = "linux") -> str:
    phase = x.error_phase or ""
    if phase.startswith("dns"):
        if platform == "darwin":
            return (
                "The name does not resolve: check ANTHROPIC_BASE_URL, your VPN and DNS settings:\n"
                "  dscacheutil -q host -a name api.anthropic.com"
            )
        return "The name does not resolve: check ANTHROPIC_BASE_URL, /etc/resolv.conf and your VPN:\n  getent hosts api.anthropic.com"
    if phase == "proxy" or phase.endswith("(proxy)"):
        return (
            "The proxy in HTTPS_PROXY/https_proxy does not answer or refuses the tunnel. Check it, or bypass it for "
            "this host:\n  export NO_PROXY=api.anthropic.com"
        )
    if phase == "tls" and not x.untrusted:
        return (
            "The connection closed before the TLS handshake ended: a firewall, VPN or proxy cut it. Claude Code "
            "retries such requests, then stops with 'API Error: Connection dropped (ECONNRESET)'. If a proxy is "
            "required here, set it for Claude Code in your shell profile:\n"
            "  export HTTPS_PROXY=http://proxy.example:8080"
        )
    if phase == "tls":
        return (
            "The TLS handshake failed. Behind a TLS-inspecting proxy, export its CA certificate in your shell "
            "profile (setting it in settings.json is not enough: Claude Code reads it at start-up):\n"
            "  export NODE_EXTRA_CA_CERTS=/path/to/corporate-ca.pem"
        )
    if phase in ("first byte", "body"):
        return (
            "The server accepted the connection but did not answer in time or cut it. Claude Code waits "
            "API_TIMEOUT_MS (600000 ms by default) per attempt before it retries: a silent gateway looks like a "
            "10-minute hang. Prefer a wired connection or a proxy that keeps long-lived streams, or lower the wait:\n"
            "  export API_TIMEOUT_MS=120000"
        )
    return "Check the network path to the API (firewall, VPN, proxy)."


def evaluate_key(s: Survey) -> Result:
    c = s.credential
    if c.source in ("bedrock", "vertex"):
        return skip(
            f"requests go to {'Amazon Bedrock' if c.source == 'bedrock' else 'Google Vertex AI'}: the Anthropic key check does not apply"
        )
    if s.refused:
        return fail(
            "the key was not sent: " + s.refused,
            f"ANTHROPIC_BASE_URL={s.base}",
            remediation="Use an https:// base URL (or a gateway on this machine), or the key can be read "
            "by anyone on the path:\n  export ANTHROPIC_BASE_URL=https://...",
            docs=DOCS_NET,
        )
    if s.key_check is None:
        why = c.error or ("not run: this folder is not trusted" if c.untrusted else "")
        return skip(f"no key to check ({c.source}{': ' + why if why else ''})")
    x = s.key_check
    if not x.ok:
        return _failed_phase(x, s.base, s.platform)
    evidence = [
        f"GET {s.base}/v1/models?limit=1 with {_who(c)}: HTTP {x.status} after {x.phases.get('total', 0) * 1000:.0f} ms",
        *_limits(x),
    ]
    if x.status == 200:
        return ok(f"the API accepts the credentials ({_who(c)})", *evidence)
    message = _error_text(x)
    evidence.append(f"the API said: {message}")
    if x.status == 401:
        return fail(
            f"the API rejects the credentials (401): {message}",
            *evidence,
            remediation=f"{_rejected(c)} Create a new key at console.anthropic.com (or log in again with `claude auth login`) "
            f"and replace the value of {c.source}.",
            docs=DOCS_AUTH,
        )
    if x.status == 403:
        return fail(
            f"the credentials are not allowed to do this (403): {message}",
            *evidence,
            remediation="The key works but lacks permission (workspace, organisation or model access). "
            "Claude Code does not retry a 403; ask your organisation's admin, or use another key.",
            docs=DOCS_AUTH,
        )
    if x.status == 429:
        return warn(
            f"rate limited (429): {message}",
            *evidence,
            remediation="Claude Code retries 429s for about 3 minutes and then stops. Wait for retry-after, "
            "run fewer sessions or agents at once, or raise your usage tier.",
            docs="https://docs.anthropic.com/en/api/rate-limits",
        )
    if x.status >= 500:
        return warn(
            f"the API has a problem on its side ({x.status}): {message}",
            *evidence,
            remediation="Server-side (529 = overloaded): nothing on this machine to fix. Check "
            "status.anthropic.com and try again later; quote the request-id above if you report it.",
        )
    return warn(
        f"unexpected answer {x.status}: {message}",
        *evidence,
        remediation="A gateway at ANTHROPIC_BASE_URL may not pass /v1/models through; check its logs.",
    )


def _median(ordered: list[float]) -> float:
    """The median of sorted figures (statistics would cost its import, with fractions, to every run)."""
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def evaluate_latency(s: Survey, policy: Policy) -> Result:
    failed = [x for x in s.samples if not x.ok]
    if len(failed) == len(s.samples):  # an untrusted certificate says more than a cut among the samples
        return _failed_phase(next((x for x in failed if x.untrusted), failed[0]), s.base, s.platform)
    times = sorted(x.first_byte_s for x in s.samples if x.ok)
    median, spread = _median(times), times[-1] - times[0]
    x = next(x for x in s.samples if x.ok)
    route = f"through the proxy {x.via_proxy} (CONNECT)" if x.via_proxy else "direct (no proxy applies)"
    evidence = [f"{s.base}: {route}, {len(s.samples)} samples at once"]
    for n, sample in enumerate(s.samples, 1):
        phases = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in sample.phases.items() if k != "total")
        evidence.append(
            f"sample {n}: {phases}" if sample.ok else f"sample {n}: {sample.error_phase} failed: {sample.error}"
        )
    evidence.append(f"first byte: median {median * 1000:.0f} ms, spread {spread * 1000:.0f} ms")
    findings = []
    if failed:
        findings.append(
            Finding(
                Status.WARN,
                f"{len(failed)} of {len(s.samples)} requests failed ({failed[0].error_phase}: {failed[0].error})",
                _phase_advice(failed[0]),
            )
        )
    slow = (
        "A slow or unsteady link is what drops Claude Code's long streams (ECONNRESET, 'Connection dropped'). "
        "Prefer a wired connection, a proxy that keeps long-lived streams, or raise the per-request wait:\n"
        "  export API_TIMEOUT_MS=900000"
    )
    if median > policy.latency_fail_s:
        findings.append(
            Finding(Status.FAIL, f"the API's first byte takes {median:.1f} s (over {policy.latency_fail_s:g} s)", slow)
        )
    elif median > policy.latency_warn_s:
        findings.append(
            Finding(Status.WARN, f"the API's first byte takes {median:.1f} s (over {policy.latency_warn_s:g} s)", slow)
        )
    if spread > policy.latency_spread_warn_s:
        findings.append(Finding(Status.WARN, f"latency varies by {spread:.1f} s between samples", slow))
    return combine(findings, evidence, f"first byte in {median * 1000:.0f} ms {route}", DOCS_NET)


def evaluate_ca(ca: CaFile, platform: str = "linux") -> Result:
    if ca.state == "unset":
        if ca.only_in_settings:
            return warn(
                "NODE_EXTRA_CA_CERTS is set in settings.json but not in your shell",
                f"{ca.only_in_settings}: env.NODE_EXTRA_CA_CERTS",
                remediation="Claude Code reads NODE_EXTRA_CA_CERTS when its process starts, before settings.json "
                "is applied: behind a TLS-inspecting proxy every request fails with SELF_SIGNED_CERT_IN_CHAIN. "
                "Export it in your shell profile:\n  echo 'export NODE_EXTRA_CA_CERTS=/path/to/ca.pem' >> "
                + ("~/.zshrc" if platform == "darwin" else "~/.bashrc"),
                docs=DOCS_NET,
            )
        return skip("NODE_EXTRA_CA_CERTS is not set (system trust only)")
    what = {
        "missing": "does not exist",
        "not-a-file": f"is not a regular file ({ca.error})",
        "unreadable": f"cannot be read ({ca.error})",
        "not-pem": "holds no PEM certificate" + (f" ({ca.error})" if ca.error else ""),
    }
    if ca.state in what:
        return fail(
            f"NODE_EXTRA_CA_CERTS {what[ca.state]}: {ca.path}",
            f"NODE_EXTRA_CA_CERTS={ca.path}",
            remediation="Claude Code adds this file to its trust store; when it is wrong, a TLS-inspecting "
            "proxy's certificate is not trusted and every request fails (SELF_SIGNED_CERT_IN_CHAIN). Point it "
            "at the PEM file of your proxy's CA (-----BEGIN CERTIFICATE-----):\n"
            "  export NODE_EXTRA_CA_CERTS=/path/to/corporate-ca.pem",
            docs=DOCS_NET,
        )
    return ok(f"NODE_EXTRA_CA_CERTS holds {ca.certificates} PEM certificate(s)", f"NODE_EXTRA_CA_CERTS={ca.path}")


KEYCHAIN_CA = """\
On a Mac Claude Code also trusts the certificates in the Keychain (the OS store). Add your proxy's CA there once:
  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain /path/to/corporate-ca.pem
or export it for Claude Code in ~/.zshrc:
  export NODE_EXTRA_CA_CERTS=/path/to/corporate-ca.pem"""


def evaluate_tls(s: Survey, ca: CaFile, keychain: tuple[str, ...] | None = None) -> Result:
    """`keychain`: subjects of the macOS Keychain's certificates (None: not a Mac, or not readable)."""
    if not s.base.startswith("https://"):
        return skip(f"{s.base} is not https")
    # The most telling sample: one that got through, else one the certificate stopped (a cut handshake among
    # them is the network's doing, not the certificate's).
    x = next((x for x in s.samples if x.ok), None) or next((x for x in s.samples if x.untrusted), None)
    x = x or (s.samples[0] if s.samples else None)
    if x is None:
        return skip("no request was made")
    trust = f"system trust + NODE_EXTRA_CA_CERTS ({ca.path})" if ca.state == "ok" else "system trust"
    if x.error_phase == "tls" and not x.untrusted:
        return skip(
            f"the TLS handshake did not complete ({x.error}): the certificate was not seen; see network.latency"
        )
    if x.untrusted and keychain and x.issuer in keychain:
        return ok(
            f"the TLS certificate of {s.base} is issued by a CA in the macOS Keychain",
            f"{s.base}: {x.error}",
            f"issuer: {x.issuer} (in the Keychain: `security find-certificate -a -p`)",
            "Claude Code trusts the OS store as well as its bundled roots; claude-preflight's own TLS client "
            "does not read the Keychain, hence the error above",
        )
    if x.untrusted and keychain is not None:
        who = f" issued by {x.issuer}" if x.issuer else ""
        return fail(
            f"the TLS certificate of {s.base} is not trusted{who}",
            f"{s.base}: {x.error}",
            f"trusted: {trust}",
            f"the Keychain holds {len(keychain)} certificate(s), none of them this issuer",
            remediation="Claude Code would fail every request with SELF_SIGNED_CERT_IN_CHAIN or "
            f"UNABLE_TO_VERIFY_LEAF_SIGNATURE. {KEYCHAIN_CA}",
            docs=DOCS_NET,
        )
    if x.untrusted:
        who = f" issued by {x.issuer}" if x.issuer else ""
        return fail(
            f"the TLS certificate of {s.base} is not trusted{who}",
            f"{s.base}: {x.error}",
            f"trusted: {trust}",
            *([f"issuer: {x.issuer}"] if x.issuer else []),
            remediation="Claude Code would fail every request with SELF_SIGNED_CERT_IN_CHAIN or "
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE. If a corporate proxy inspects TLS, get its CA certificate "
            "(the issuer above) as a PEM file and export it in your shell profile (settings.json is not enough):\n"
            "  export NODE_EXTRA_CA_CERTS=/path/to/corporate-ca.pem",
            docs=DOCS_NET,
        )
    if not x.ok:
        return skip(f"the TLS handshake was not reached ({x.error_phase} failed: see network.latency)")
    return ok(
        f"the TLS certificate of {s.base} verifies with {trust}",
        f"TLS handshake {x.phases.get('tls', 0) * 1000:.0f} ms",
    )


def evaluate_stream(s: Survey, policy: Policy) -> Result:
    if not policy.live:
        return skip("needs --live (it spends about one output token)")
    if s.stream is None:
        return skip(f"no credentials to stream with ({s.credential.source})" if not s.refused else s.refused)
    x = s.stream
    if x.ok and x.status == 200 and x.events and x.events[-1][1] == "message_stop":
        first, last = x.events[0][0], x.events[-1][0]
        return ok(
            f"a streamed reply completed: first event after {first * 1000:.0f} ms, done in {last * 1000:.0f} ms",
            f"POST {s.base}/v1/messages (stream, max_tokens 1, {policy.live_model}): {len(x.events)} events",
        )
    answer = " ".join(
        part
        for part in (
            f"HTTP {x.status}" if x.status else "",
            f"{x.error_phase} failed: {x.error}" if x.error_phase else "",
        )
        if part
    )
    evidence = [
        f"POST {s.base}/v1/messages: {answer}",
        f"events received: {', '.join(e for _, e in x.events) or 'none'}",
    ]
    if x.status and x.status != 200:
        evidence.append(f"the API said: {_error_text(x)}")
    elif x.events and x.events[-1][1] == "error":
        evidence.append(f"in-stream error: {x.body.decode('utf-8', 'replace')[:200]}")
    return fail(
        "the streamed reply did not complete",
        *evidence,
        remediation="Claude Code streams every reply; a stream cut mid-way shows as 'API Error: Connection "
        "dropped' or an endless retry. A proxy or VPN that buffers or times out long-lived HTTP responses is the "
        "usual cause: bypass it for the API (NO_PROXY) or use a wired connection.",
        docs=DOCS_NET,
    )


def evaluate_timeouts(t: Timeouts) -> Result:
    values, problems = {}, []
    for name, raw, default in (
        ("API_TIMEOUT_MS", t.api_timeout_ms, 600000),
        ("CLAUDE_CODE_MAX_RETRIES", t.max_retries, 10),
        ("MCP_TIMEOUT", t.mcp_timeout_ms, 30000),
    ):
        if raw is None:
            values[name] = default
            continue
        number = whole_number(raw)
        if number is None:
            values[name] = default
            shown = raw if len(raw) <= 40 else f"{raw[:20]}… ({len(raw)} characters)"
            problems.append(f"{name}={shown!r} is not a whole number Claude Code can use")
        else:
            values[name] = number
    if values["API_TIMEOUT_MS"] > 2147483647:
        problems.append(f"API_TIMEOUT_MS={values['API_TIMEOUT_MS']} overflows the timer: every request fails at once")
        values["API_TIMEOUT_MS"] = 2147483647
    retries = values["CLAUDE_CODE_MAX_RETRIES"]
    backoff = sum(RETRY_DELAYS_S[: min(retries, len(RETRY_DELAYS_S))]) + 39 * max(0, retries - len(RETRY_DELAYS_S))
    worst = values["API_TIMEOUT_MS"] / 1000 * (retries + 1) + backoff
    evidence = [
        f"{n}={v}" + ("" if getattr(t, a) is not None else " (default)")
        for (n, v), a in zip(values.items(), ("api_timeout_ms", "max_retries", "mcp_timeout_ms"), strict=True)
    ]
    evidence += [
        f"a silent API: up to {_duration(worst)} before Claude Code gives up ({retries + 1} attempts of "
        f"{values['API_TIMEOUT_MS'] / 1000:g} s plus {backoff:.0f} s of backoff)",
        f"a rejected key: about {backoff:.0f} s of retries",
        f"a silent MCP server: {values['MCP_TIMEOUT'] / 1000:g} s at every start",
    ]
    if problems:
        return fail(
            problems[0],
            *evidence,
            *problems[1:],
            remediation="Claude Code ignores or mis-reads these values. Set whole numbers, e.g.:\n"
            "  export API_TIMEOUT_MS=600000 CLAUDE_CODE_MAX_RETRIES=10 MCP_TIMEOUT=30000",
            docs=DOCS_NET,
        )
    return ok(f"worst case: {_duration(worst)} for a silent API, {_duration(backoff)} for a rejected key", *evidence)
