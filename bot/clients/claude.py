"""The one synchronous call to Claude: schema enforced, errors turned to notes.

`anthropic` is imported on the first call, so commands and reviews that never ask Claude do not
pay the second it takes to import.
"""

from dataclasses import dataclass
from typing import Mapping, Optional

from bot.core import inference

TIMEOUT = 30.0  # seconds per attempt; a review waits for at most three of them
RETRIES = 2  # the SDK's own retries of 408, 409, 429, 5xx (529 overloaded too) and dropped connections


@dataclass(frozen=True)
class Reply:
    answer: object = None  # the reply's JSON, unchecked (inference.validate checks it)
    input_tokens: int = 0
    output_tokens: int = 0
    error: Optional[str] = None  # why there is no reply, worded for the comment

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _error_text(error) -> str:
    """A short, secret-free description of an API failure."""
    import anthropic  # the SDK takes ~0.5 s to import: only commands that call the API load it

    if isinstance(error, anthropic.APITimeoutError):
        return "the API did not answer in time"
    if isinstance(error, anthropic.APIConnectionError):
        return "the API could not be reached"
    status = getattr(error, "status_code", None)
    named = {401: "the API key was refused", 403: "the API key may not use this model",
             429: "rate limited", 529: "the API is overloaded"}
    if status in named:
        return f"{named[status]} ({status})"
    if status and status >= 500:
        return f"the API had a server error ({status})"
    message = getattr(error, "api_message", None) or "the request was refused"
    return f"{message[:200]} ({status})" if status else message[:200]


class Claude:
    """A Messages API client for suggestions, made on first use from an API key (and a base URL in tests)."""

    def __init__(self, api_key: str, *, base_url: Optional[str] = None, retries: int = RETRIES,
                 timeout: float = TIMEOUT):
        self._options = {"api_key": api_key, "base_url": base_url, "max_retries": retries, "timeout": timeout}
        self._client = None

    def __repr__(self) -> str:  # never shows the key
        return f"Claude(base_url={self._options['base_url']!r})"

    @classmethod
    def from_env(cls, env: Mapping, **options) -> Optional["Claude"]:
        """A client when ANTHROPIC_API_KEY holds a key (ANTHROPIC_BASE_URL, if set, is where it goes); else None."""
        key = (env.get("ANTHROPIC_API_KEY") or "").strip()
        return cls(key, base_url=env.get("ANTHROPIC_BASE_URL") or None, **options) if key else None

    def ask(self, prompt: inference.Prompt, *, model: str, max_tokens: int) -> Reply:
        """One Messages API call; any API error comes back as `Reply.error`, never raised."""
        import anthropic  # the SDK takes ~0.5 s to import: only commands that call the API load it

        if self._client is None:
            self._client = anthropic.Anthropic(**self._options)
        try:
            message = self._client.messages.create(**inference.params(prompt, model, max_tokens))
        except anthropic.AnthropicError as error:
            return Reply(error=_error_text(error))
        usage = message.usage
        content = [block.to_dict() for block in message.content]
        return Reply(inference.reply_of(content), usage.input_tokens or 0, usage.output_tokens or 0)
