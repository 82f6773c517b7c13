"""One way to call the Hub: an HfApi bound to an endpoint and a token, and Hub failures as one-line messages."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from forklift_core.config import HubConfig
from forklift_core.errors import AccessDeniedError, BadInputError, ForkliftError, NotFoundError
from forklift_core.hub.auth import HubToken, redact


class HubUnavailableError(ForkliftError):
    """The Hub could not be reached or failed; what was staged locally is kept for a retry."""


@dataclass(frozen=True)
class Hub:
    """The Hub address, the caller's token and the request timeout: what every call needs."""

    token: HubToken
    config: HubConfig

    @property
    def endpoint(self) -> str:
        return self.config.resolved_endpoint()

    def api(self) -> Any:
        """A huggingface_hub client for this endpoint; the token is passed on every call, not stored in it."""
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint)

    def whoami(self) -> str:
        """The user name the token belongs to (a cheap check that it is valid)."""
        with hub_errors(self, "check the token"):
            return self.api().whoami(token=self.token.value)["name"]


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


@contextmanager
def hub_errors(hub: Hub, action: str, repo: str = "") -> Iterator[None]:
    """Turn a Hub failure into a message that says what happened and what to do (the token never in it)."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as exc:
        status = _status(exc)
        where = f" {repo}" if repo else ""
        detail = redact(str(exc).splitlines()[0] if str(exc) else "", hub.token.value)
        if status == 401:
            raise AccessDeniedError(f"the Hub refused the token ({hub.token.source}) to {action}: it is invalid or "
                                    "expired; sign in again or set a new HF_TOKEN") from None
        if status == 403:
            raise AccessDeniedError(f"the token ({hub.token.source}) may not {action}{where}: it needs write access "
                                    "to that namespace (a 'write' token, or fine-grained write on the repo)") from None
        if status == 404:
            raise NotFoundError(f"no such repository or revision{where} (or it is private and this token cannot "
                                "see it)") from None
        if status == 412:
            raise BadInputError(f"{repo or 'the repository'} changed on the Hub since the preview: look at it again "
                                "and push again (nothing was overwritten)") from None
        if status == 429:
            after = exc.response.headers.get("Retry-After", "")
            raise HubUnavailableError(f"the Hub is rate-limiting requests{f'; retry after {after} s' if after else ''}"
                                      "; what was staged is kept, push again to finish") from None
        raise HubUnavailableError(f"the Hub failed to {action} ({status}: {detail}); what was staged is kept, "
                                  "retry to finish") from None
    except (ForkliftError, ValueError):
        raise
    except Exception as exc:
        network = _network_cause(exc)
        if network is None:
            raise
        reason = redact(f"{type(network).__name__}: {network}", hub.token.value)[:200]
        raise HubUnavailableError(f"the Hub at {hub.endpoint} cannot be reached to {action} ({reason}); "
                                  "what was staged is kept, retry to finish") from None


def _network_cause(exc: BaseException) -> BaseException | None:
    """The connection failure behind an error (huggingface_hub wraps a failed upload in a RuntimeError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) or type(seen).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore",
                                                                                "httpcore2"):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
