"""Look a puller up in the directory, for the pull rows that name identities by name prefix.

Only made when such a row could apply (an enabled one covers the repository and no row names
the object id): most deployments have none, and then nothing reads Graph. A directory that cannot
be read is an answer, not an error: the finding says why no prefix row matched and nothing is
granted. A transient failure propagates (the signal is retried).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.domain.directory import DirectoryAnswer
from shared.domain.pull_policies import PullPolicy, pull_policy_for
from shared.errors import AccessDeniedError, NotFoundError, PermanentError
from shared.services.context import Context

__all__ = ["directory_answer"]

_OFF = (
    "directory lookups are off (DIRECTORY_LOOKUP), so cachekeeper does not know the "
    "principal's names"
)


def directory_answer(
    ctx: Context,
    principal_id: str,
    rows: Sequence[PullPolicy],
    *,
    registry_name: str,
    repository: str,
) -> DirectoryAnswer | None:
    """What the directory says about `principal_id`, when a prefix row could make a difference;
    None when none could."""
    by_name = [
        r for r in rows
        if r.enabled and r.spn_prefix is not None and r.covers(registry_name, repository)
    ]  # fmt: skip
    if not by_name or pull_policy_for(
        rows, principal_id=principal_id, principal=None, registry_name=registry_name,
        repository=repository,
    ) is not None:  # fmt: skip
        return None
    if ctx.directory is None:
        return DirectoryAnswer(None, _OFF)
    try:
        return DirectoryAnswer(ctx.directory.service_principal(principal_id))
    except NotFoundError as error:
        return DirectoryAnswer(
            None, f"the directory has no service principal {principal_id} ({error})"
        )
    except AccessDeniedError as error:
        return DirectoryAnswer(
            None,
            f"the directory cannot be read ({error}); the app's identity needs the Microsoft "
            "Graph application permission Application.Read.All",
        )
    except PermanentError as error:
        return DirectoryAnswer(None, f"the directory cannot be read ({error})")
