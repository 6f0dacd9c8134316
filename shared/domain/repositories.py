"""Repository names: upstream repositories (`docker.io/library/nginx`) and ACR target paths.

Components follow the OCI distribution spec (lower-case alphanumerics joined by `.`, `_`, `__`
or runs of `-`). A trailing `*` component marks a wildcard (`docker.io/library/*`,
`dockerhub/*`, or `*` for a whole registry), as ACR's wildcard cache rules use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import InvalidRepositoryError

__all__ = ["DOCKER_HUB", "TargetPath", "Upstream"]

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = {
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
}
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*", re.ASCII)
_HOST = re.compile(
    r"(?=.{1,253}(?::\d{1,5})?\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+(?::\d{1,5})?",
    re.ASCII,
)
_MAX_LENGTH = 255


def _components(path: str, text: str, *, allow_wildcard: bool) -> tuple[str, ...]:
    parts = tuple(path.split("/")) if path else ()
    if not parts:
        raise InvalidRepositoryError(f"{text!r} has no repository path")
    for index, part in enumerate(parts):
        if part == "*" and allow_wildcard and index == len(parts) - 1:
            continue
        if not _COMPONENT.fullmatch(part):
            raise InvalidRepositoryError(
                f"{text!r}: {part!r} is not a valid repository component "
                "(lower-case letters and digits, separated by '.', '_', '__' or '-')"
            )
    return parts


@dataclass(frozen=True, slots=True)
class Upstream:
    """An upstream repository: the registry host and the path under it."""

    host: str
    path: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, allow_wildcard: bool = False) -> Upstream:
        """Parse `host/path`; Docker Hub aliases become docker.io and gain `library/` when bare."""
        if not isinstance(text, str):
            raise InvalidRepositoryError("an upstream repository must be a string")
        value = text.strip()
        if not value or len(value) > _MAX_LENGTH or value != value.lower():
            raise InvalidRepositoryError(
                f"{text!r} is not an upstream repository: use lower case, at most 255 characters"
            )
        host, _, path = value.partition("/")
        if not _HOST.fullmatch(host):
            raise InvalidRepositoryError(
                f"{text!r} must start with the upstream registry host, e.g. docker.io/library/nginx"
            )
        parts = _components(path, text, allow_wildcard=allow_wildcard)
        if host in _DOCKER_HUB_ALIASES:
            host = DOCKER_HUB
            # Docker Hub's official images live under library/; ACR adds it when missing.
            if len(parts) == 1 and parts[0] != "*":
                parts = ("library", *parts)
        return cls(host, parts)

    @property
    def is_wildcard(self) -> bool:
        """True for `host/prefix/*` patterns."""
        return self.path[-1] == "*"

    @property
    def is_docker_hub(self) -> bool:
        """Docker Hub only serves cache rules that have a credential set."""
        return self.host == DOCKER_HUB

    @property
    def repository(self) -> str:
        """The path under the host, e.g. library/nginx."""
        return "/".join(self.path)

    def __str__(self) -> str:
        return f"{self.host}/{self.repository}"


@dataclass(frozen=True, slots=True)
class TargetPath:
    """A repository path inside the registry (`dockerhub/library/nginx`), or a wildcard (`x/*`, `*`)."""

    path: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, allow_wildcard: bool = True) -> TargetPath:
        """Parse a target repository path."""
        if not isinstance(text, str):
            raise InvalidRepositoryError("a target repository must be a string")
        value = text.strip()
        if len(value) > _MAX_LENGTH or value != value.lower():
            raise InvalidRepositoryError(f"{text!r}: use lower case, at most 255 characters")
        return cls(_components(value, text, allow_wildcard=allow_wildcard))

    @property
    def is_wildcard(self) -> bool:
        """True for `prefix/*` and `*`."""
        return self.path[-1] == "*"

    @property
    def prefix(self) -> tuple[str, ...]:
        """The components before the wildcard (empty for a registry-wide `*`)."""
        return self.path[:-1] if self.is_wildcard else self.path

    def covers(self, repository: TargetPath) -> bool:
        """True when this target serves `repository`: equal, or a wildcard above it."""
        if not self.is_wildcard:
            return self.path == repository.path
        return (
            len(repository.path) > len(self.prefix)
            and repository.path[: len(self.prefix)] == self.prefix
        )

    def __str__(self) -> str:
        return "/".join(self.path)
