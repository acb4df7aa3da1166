"""One place that keeps secrets out of every output: terminal, HTML, JUnit, JSON, logs.

Two layers: known secret values (collected from the environment and config files, see
probes/secrets.py) and patterns for secrets we were not told about (Anthropic keys, bearer tokens,
common token formats). At most the last 4 characters of a long secret are shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from claude_preflight.run import MIN_SECRET_LENGTH  # shorter values are not redacted by value

# Environment variables whose values are secrets, by name.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|AUTH|CREDENTIAL|COOKIE|SESSION_ID", re.IGNORECASE)


_PATTERNS = (
    re.compile(r"(sk-ant-)[A-Za-z0-9_\-]{6,}"),  # Anthropic API keys and OAuth tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{6,}"),
    re.compile(r"(?i)((?:x-api-key|api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{6,}"),
    re.compile(r"()(?:ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{10,}"),
    re.compile(r"()xox[abprs]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"()AKIA[0-9A-Z]{16}"),
    re.compile(r"(://[^:/@\s]+:)[^@\s/]{1,}(?=@)"),  # the password in scheme://user:password@host
    # "SOME_TOKEN": "value" in JSON, and SOME_TOKEN=value in shell or env text
    re.compile(r'(?i)("[^"]*(?:key|token|secret|passw|auth|credential)[^"]*"\s*:\s*")[^"]{6,}'),
    re.compile(r"(?i)(\b\w*(?:KEY|TOKEN|SECRET|PASSW|AUTH)\w*=)[^\s'\"]{6,}"),
    # command-line flags: --api-key VALUE, --token=VALUE, -password VALUE (MCP server args, pasted commands)
    re.compile(r"(?i)(--?[\w-]*(?:key|token|secret|passw|credential)[\w-]*(?:=|\s+)[\"']?)[^\s\"',]{6,}"),
)

# Fail-closed extras, used when some file that may hold secrets could not be read: any long token-like word
# (not a path, not a UUID such as a session id) is masked too.
_LONG_TOKEN = re.compile(
    r"(?<![\w/.-])()(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-]))"
    r"(?=[\w+=.-]*[0-9])(?=[\w+=.-]*[A-Za-z])[\w+=.-]{24,}(?![\w/])"
)

# Values of 12+ characters: long enough to be a token, short enough values (versions, names) stay readable.
_JSON_STRING_VALUE = re.compile(r'((?:^|[:\[,])\s*)"((?:[^"\\]|\\.){12,})"(?!\s*:)')


def mask(value: str) -> str:
    """What is shown instead of a secret: its last 4 characters when it is long enough to spare them."""
    return f"…{value[-4:]}" if len(value) >= 16 else "****"


def mask_json_values(line: str) -> str:
    """Mask every string value (not key) on a line of JSON we show from a file that may hold secrets."""
    return _JSON_STRING_VALUE.sub(lambda m: f'{m.group(1)}"{mask(m.group(2))}"', line)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


MEMO_TEXT_LIMIT, MEMO_ENTRIES = 1 << 16, 1 << 14  # what Redactor remembers: short texts, a bounded number


class SecretSet(set):
    """Secret values found by collection; `complete` is False when some source could not be read."""

    complete: bool = True


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), learned: set[str] | None = None) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern | None = None
        self.strict = False  # fail closed: some secrets may be unknown, so mask more
        self._learned = learned if learned is not None else set()  # the run's, growing while checks run
        # Texts already redacted with the present secrets: a result's lines are redacted for its record, then
        # again as JUnit properties and in the JSON document (1,900 calls for 380 texts in an offline run).
        self._memo: dict[str, str] = {}
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        if getattr(secrets, "complete", True) is False and not self.strict:
            self.strict, self._memo = True, {}
        fresh = {s.strip() for s in secrets if isinstance(s, str) and len(s.strip()) >= MIN_SECRET_LENGTH}
        if fresh - self._secrets:
            self._secrets |= fresh
            ordered = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leaks
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            self._memo = {}

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if not self._learned <= self._secrets:
            self.add(set(self._learned))
        done = self._memo.get(text)
        if done is None:
            done = self._redact(text)
            if len(text) <= MEMO_TEXT_LIMIT and len(self._memo) < MEMO_ENTRIES:
                self._memo[text] = done
        return done

    def _redact(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: mask(m.group(0)), text)
        for pattern in _PATTERNS + ((_LONG_TOKEN,) if self.strict else ()):
            text = pattern.sub(lambda m: m.group(1) + mask(m.group(0)[len(m.group(1)) :]), text)
        if self.strict:
            text = mask_json_values(text)
        return text

    def value(self, obj):
        """Redact every string inside a JSON-like structure."""
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, dict):
            return {self(str(k)): self.value(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.value(v) for v in obj)
        return obj
