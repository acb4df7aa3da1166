"""Network and API facts: which credentials Claude Code would use, CA and proxy settings, and one concurrent
survey of the base URL (key check, latency samples, TLS, streaming) shared by every network check."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from claude_preflight.env import Env
from claude_preflight.probes import macos, once_per_run
from claude_preflight.probes.config import settings_documents
from claude_preflight.probes.files import loads, read_json
from claude_preflight.probes.trust import PROJECT_SETTINGS, workspace_trust
from claude_preflight.records import dataclass, field
from claude_preflight.values import epoch_ms

if TYPE_CHECKING:  # the type only: exchanges are made through Env.exchange
    from claude_preflight.net import Exchange

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
OAUTH_BETA = "oauth-2025-04-20"


def base_url(env: Env) -> str:
    return (env.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


# -- credentials -------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyProblem:
    """Something wrong with a credential found without the network: a code and what it concerns.

    Codes: padded, quoted, line-break, whitespace, not-latin1, control, not-anthropic (a key's shape); no-region,
    no-aws-credentials
    (Bedrock); no-project, no-region, missing-credentials-file, no-google-credentials (Vertex)."""

    code: str
    subject: str = ""  # the variable or output it concerns, or the file named


@dataclass(frozen=True)
class Credential:
    source: str  # ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, apiKeyHelper, oauth, bedrock, vertex, none
    value: str | None = None  # the secret itself: never printed, only its last 4 characters
    header: str | None = None  # "x-api-key" or "authorization"
    detail: tuple[str, ...] = ()  # facts about where it came from (no secret in them)
    problems: tuple[KeyProblem, ...] = ()  # what is wrong with it, found without the network
    expires_at_ms: int | None = None
    error: str | None = None  # a helper that failed
    untrusted: bool = False  # an apiKeyHelper from the project's own settings in a workspace not trusted: not run

    @property
    def sendable(self) -> bool:
        return (
            bool(self.value)
            and self.header is not None
            and not self.error
            and bool(_HEADER_SAFE.fullmatch(self.value.strip()))
        )


def _settings_value(env: Env, key: str, max_bytes: int) -> tuple[str, str, bool] | None:
    """The winning value of a settings key, the file it comes from, and whether that file is the project's own."""
    for target, data in settings_documents(env, max_bytes):
        if isinstance(data.get(key), str):
            return data[key], str(target.path), target.id in PROJECT_SETTINGS
    return None


# What an HTTP header value may hold (RFC 9110 field-value: visible ASCII/Latin-1, spaces and tabs inside).
_HEADER_SAFE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def _format_problems(value: str, name: str, base: str) -> list[KeyProblem]:
    """What is wrong with a key's shape, as codes: the rule decides what each means and says it."""
    stripped, problems = value.strip(), []
    if value != stripped:
        problems.append(KeyProblem("padded", name))
    if stripped[:1] in "\"'" or stripped[-1:] in "\"'":
        problems.append(KeyProblem("quoted", name))
    if re.search(r"[\r\n]", stripped):
        problems.append(KeyProblem("line-break", name))
    if re.search(r"[^\S\r\n]", stripped):
        problems.append(KeyProblem("whitespace", name))
    if any(ord(character) > 0xFF for character in stripped):
        problems.append(KeyProblem("not-latin1", name))
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", stripped):
        problems.append(KeyProblem("control", name))
    if name == "ANTHROPIC_API_KEY" and not stripped.strip("\"'").startswith("sk-ant-") and base == DEFAULT_BASE_URL:
        problems.append(KeyProblem("not-anthropic", name))
    return problems


def credentials(env: Env, timeout: float, max_bytes: int) -> Credential:
    e = env.environ
    if e.get("CLAUDE_CODE_USE_BEDROCK") not in (None, "", "0"):
        return _bedrock(env)
    if e.get("CLAUDE_CODE_USE_VERTEX") not in (None, "", "0"):
        return _vertex(env)
    base = base_url(env)
    for name, header in (("ANTHROPIC_AUTH_TOKEN", "authorization"), ("ANTHROPIC_API_KEY", "x-api-key")):
        if e.get(name):
            return Credential(name, e[name], header, (f"from the environment variable {name}",),
                              tuple(_format_problems(e[name], name, base)))  # fmt: skip
    helper = _settings_value(env, "apiKeyHelper", max_bytes)
    if helper:
        command, where, from_project = helper
        if from_project and not workspace_trust(env, max_bytes).trusted:
            return Credential("apiKeyHelper", detail=(f"apiKeyHelper from {where}: {command}",), untrusted=True)
        return _run_helper(env, command, where, timeout=timeout)
    if e.get("CLAUDE_CODE_OAUTH_TOKEN"):  # `claude setup-token`, the usual CI login
        token = e["CLAUDE_CODE_OAUTH_TOKEN"]
        return Credential("CLAUDE_CODE_OAUTH_TOKEN", token, "authorization",
                          ("from the environment variable CLAUDE_CODE_OAUTH_TOKEN (claude setup-token)",),
                          tuple(_format_problems(token, "CLAUDE_CODE_OAUTH_TOKEN", base)))  # fmt: skip
    if env.platform == "darwin":  # the login Keychain first, then ~/.claude/.credentials.json (its fallback)
        return _keychain_login(env, timeout)
    return _oauth(env)


def _keychain_login(env: Env, timeout: float) -> Credential:
    oauth = macos.keychain_item(env, macos.keychain_service(env), timeout)
    where = f"login Keychain, service {oauth.service!r}, account {oauth.account!r}"
    if oauth.state == "found":
        data = _json_object(env, oauth.secret or "")
        login = data.get("claudeAiOauth") if isinstance(data, dict) else None
        if isinstance(login, dict) and isinstance(login.get("accessToken"), str) and login["accessToken"]:
            return Credential("oauth", login["accessToken"], "authorization", (f"OAuth login in the {where}",),
                              expires_at_ms=epoch_ms(login.get("expiresAt")))  # fmt: skip
    api_key = macos.keychain_item(env, macos.keychain_service(env, ""), timeout)
    if api_key.state == "found" and api_key.secret:
        return Credential("keychain-api-key", api_key.secret, "x-api-key",
                          (f"API key stored by /login in the login Keychain, service {api_key.service!r}",),
                          tuple(_format_problems(api_key.secret, "the Keychain API key", base_url(env))))  # fmt: skip
    fallback = _oauth(env)
    seen = f"{where}: " + {"found": "an item without claudeAiOauth", "not-found": "no item (security exit 44)",
                           "locked": "the keychain is locked (security exit 36)",
                           "no-security": "`security` is not there", "timeout": f"no answer within {timeout:g} s"
                           }.get(oauth.state, f"security exit {oauth.exit_code}")  # fmt: skip
    if "locked" in (oauth.state, api_key.state) and fallback.source == "none":
        return Credential("keychain-locked", detail=(seen, *fallback.detail[1:]))
    return replace(fallback, detail=(*fallback.detail, seen))


def _json_object(env: Env, text: str) -> object:
    """The Keychain item's JSON; every string in it is a secret from the moment it is read."""
    try:
        data = loads(text)
    except ValueError:
        return None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) >= 20:  # tokens, not words such as scopes or "max"
            env.this_run.learn(item)
    return data


def _run_helper(env: Env, command: str, where: str, timeout: float) -> Credential:
    detail = (f"apiKeyHelper from {where}: {command}",)
    try:
        run = env.run(env.shell_argv(command), timeout=timeout)
    except OSError as exc:
        return Credential("apiKeyHelper", detail=detail, error=f"could not run: {exc}")
    if run.timed_out:
        return Credential("apiKeyHelper", detail=detail, error=f"no answer within {timeout:g} s")
    value = run.stdout.strip()
    # Claude Code sends the helper's whole output as the key: every token in it is a secret from now on,
    # also when the helper printed more than the key (a second line, trailing words).
    env.this_run.learn(value)
    for token in value.split():
        env.this_run.learn(token)
    if run.returncode != 0 or not value:
        return Credential("apiKeyHelper", detail=detail, error=f"exited {run.returncode} with {'no output' if not value else 'output'}"
                          + (f": {run.stderr.strip().splitlines()[0]}" if run.stderr.strip() else ""))  # fmt: skip
    return Credential(
        "apiKeyHelper",
        value,
        "x-api-key",
        detail,
        tuple(_format_problems(run.stdout.rstrip("\n"), "the helper's output", "")),
    )


def _oauth(env: Env) -> Credential:
    path = env.config_dir / ".credentials.json"
    doc = read_json(env, path, 1 << 20)
    oauth = doc.data.get("claudeAiOauth") if isinstance(doc.data, dict) else None
    if not isinstance(oauth, dict) or not oauth.get("accessToken"):
        where = f"{path}: {doc.state}" if doc.exists else f"{path} does not exist"
        return Credential(
            "none",
            detail=("no ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, apiKeyHelper or CLAUDE_CODE_OAUTH_TOKEN", where),
        )
    expires = epoch_ms(oauth.get("expiresAt"))
    return Credential(
        "oauth", oauth["accessToken"], "authorization", (f"OAuth login in {path}",), expires_at_ms=expires
    )


def _bedrock(env: Env) -> Credential:
    e = env.environ
    problems, detail = [], ["CLAUDE_CODE_USE_BEDROCK is set: requests go to Amazon Bedrock"]
    region = e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION")
    if not region:
        problems.append(KeyProblem("no-region", "AWS_REGION"))
    else:
        detail.append(f"region {region}")
    sources = [
        ("AWS_BEARER_TOKEN_BEDROCK", bool(e.get("AWS_BEARER_TOKEN_BEDROCK"))),
        (
            "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY",
            bool(e.get("AWS_ACCESS_KEY_ID") and e.get("AWS_SECRET_ACCESS_KEY")),
        ),
        (f"AWS_PROFILE={e.get('AWS_PROFILE')}", bool(e.get("AWS_PROFILE"))),
        ("~/.aws/credentials", env.exists(env.home / ".aws" / "credentials")),
        ("~/.aws/config (SSO)", env.exists(env.home / ".aws" / "config")),
    ]
    found = [name for name, present in sources if present]
    if found:
        detail.append(f"AWS credentials: {', '.join(found)}")
    else:
        problems.append(KeyProblem("no-aws-credentials"))
    return Credential("bedrock", detail=tuple(detail), problems=tuple(problems))


def _vertex(env: Env) -> Credential:
    e = env.environ
    problems, detail = [], ["CLAUDE_CODE_USE_VERTEX is set: requests go to Google Vertex AI"]
    if not e.get("ANTHROPIC_VERTEX_PROJECT_ID"):
        problems.append(KeyProblem("no-project", "ANTHROPIC_VERTEX_PROJECT_ID"))
    if not e.get("CLOUD_ML_REGION"):
        problems.append(KeyProblem("no-region", "CLOUD_ML_REGION"))
    explicit = e.get("GOOGLE_APPLICATION_CREDENTIALS")
    adc = env.home / ".config" / "gcloud" / "application_default_credentials.json"
    if explicit:
        if env.exists(Path(explicit)):
            detail.append(f"GOOGLE_APPLICATION_CREDENTIALS={explicit}")
        else:
            problems.append(KeyProblem("missing-credentials-file", explicit))
    elif env.exists(adc):
        detail.append(f"application default credentials: {adc}")
    else:
        problems.append(KeyProblem("no-google-credentials"))
    return Credential("vertex", detail=tuple(detail), problems=tuple(problems))


# -- CA certificates and timeouts --------------------------------------------------------------------
@dataclass(frozen=True)
class CaFile:
    path: str | None  # NODE_EXTRA_CA_CERTS, None when unset
    state: str  # unset, missing, not-a-file, unreadable, not-pem, ok
    certificates: int = 0
    error: str | None = None
    only_in_settings: str | None = None  # a settings file sets it in "env", the shell does not


def ca_file(env: Env, max_bytes: int) -> CaFile:
    path = env.environ.get("NODE_EXTRA_CA_CERTS")
    settings = _settings_env(env, "NODE_EXTRA_CA_CERTS", max_bytes)
    if not path:
        return CaFile(None, "unset", only_in_settings=settings)
    try:
        text = env.read_text(Path(path), 10 << 20)
    except FileNotFoundError:
        return CaFile(path, "missing")
    except (IsADirectoryError, OSError) as exc:
        kind = getattr(exc, "kind", None)
        if kind or isinstance(exc, IsADirectoryError):
            return CaFile(path, "not-a-file", error=kind or "directory")
        return CaFile(path, "unreadable", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - NotRegularFile, TooLarge
        return CaFile(path, "not-a-file", error=str(exc))
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    if not blocks:
        return CaFile(path, "not-pem")
    for number, block in enumerate(blocks, 1):
        # Decoding each block is enough to know it is a certificate, and far cheaper than loading a trust store.
        try:
            der = _pem_body(block)
        except ValueError as exc:
            return CaFile(path, "not-pem", len(blocks), error=f"certificate {number}: {exc}")
        if not der.startswith(b"0"):  # a DER certificate is an ASN.1 SEQUENCE (0x30)
            return CaFile(path, "not-pem", len(blocks), error=f"certificate {number} is not DER inside")
    return CaFile(path, "ok", len(blocks))


def _pem_body(block: str) -> bytes:
    """The DER bytes of one PEM certificate block (what ssl.PEM_cert_to_DER_cert does, without ssl)."""
    body = block.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def _settings_env(env: Env, name: str, max_bytes: int) -> str | None:
    """The settings file that sets an environment variable in its "env", if any."""
    for target, data in settings_documents(env, max_bytes):
        if isinstance(data.get("env"), dict) and name in data["env"]:
            return str(target.path)
    return None


@dataclass(frozen=True)
class Timeouts:
    api_timeout_ms: str | None
    max_retries: str | None
    mcp_timeout_ms: str | None


def timeouts(env: Env) -> Timeouts:
    e = env.environ
    return Timeouts(e.get("API_TIMEOUT_MS"), e.get("CLAUDE_CODE_MAX_RETRIES"), e.get("MCP_TIMEOUT"))


# -- the survey: every network measurement of a run, at once ------------------------------------------
@dataclass
class Survey:
    base: str
    credential: Credential
    key_check: Exchange | None = None  # None: nothing to send (no key, Bedrock, Vertex, refused)
    refused: str | None = None  # why the key was not sent
    samples: list[Exchange] = field(default_factory=list)
    stream: Exchange | None = None
    platform: str = "linux"  # the system it was measured on (fix texts differ: getent vs dscacheutil)


def _auth_headers(credential: Credential) -> dict[str, str]:
    headers = {"anthropic-version": API_VERSION, "user-agent": "claude-preflight"}
    if credential.header == "x-api-key":
        headers["x-api-key"] = credential.value.strip()
    elif credential.header == "authorization":
        headers["authorization"] = f"Bearer {credential.value.strip()}"
        if credential.source in ("oauth", "CLAUDE_CODE_OAUTH_TOKEN"):
            headers["anthropic-beta"] = OAUTH_BETA
    return headers


def survey(env: Env, policy) -> Survey:
    """Run every network probe concurrently, once per run: the family costs about one timeout, not the sum."""
    return once_per_run("network", env, policy, lambda: _run_survey(env, policy))


def _run_survey(env: Env, policy) -> Survey:
    base = base_url(env)
    credential = credentials(env, policy.probe_timeout_s, policy.config_max_bytes)
    result = Survey(base, credential, platform=env.platform)
    extra_ca = env.environ.get("NODE_EXTRA_CA_CERTS") if ca_file(env, policy.config_max_bytes).state == "ok" else None
    common = {"timeout": policy.network_timeout_s, "extra_ca": extra_ca}
    parts = urlsplit(base)
    if credential.sendable and parts.scheme != "https" and not env.is_loopback(parts.hostname or ""):
        result.refused = f"{base} is plain http to a host that is not this machine: the key would travel in clear text"
    jobs = {}
    from concurrent.futures import ThreadPoolExecutor  # here: an offline run sends nothing

    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="survey") as pool:
        for n in range(policy.latency_samples):
            # No credentials here: latency is measured with a request any server answers at once (401).
            jobs[f"sample{n}"] = pool.submit(env.exchange, f"{base}/v1/models?limit=1", **common,
                                             headers={"anthropic-version": API_VERSION})  # fmt: skip
        if credential.sendable and not result.refused:
            jobs["key"] = pool.submit(
                env.exchange, f"{base}/v1/models?limit=1", **common, headers=_auth_headers(credential)
            )
            if policy.live:
                body = json.dumps({"model": policy.live_model, "max_tokens": 1, "stream": True,
                                   "messages": [{"role": "user", "content": "Say OK."}]}).encode()  # fmt: skip
                headers = {**_auth_headers(credential), "content-type": "application/json"}
                jobs["stream"] = pool.submit(env.exchange, f"{base}/v1/messages", **common, method="POST",
                                             headers=headers, body=body, stream_events=True)  # fmt: skip
    result.samples = [jobs[f"sample{n}"].result() for n in range(policy.latency_samples)]
    result.key_check = jobs["key"].result() if "key" in jobs else None
    result.stream = jobs["stream"].result() if "stream" in jobs else None
    return result
