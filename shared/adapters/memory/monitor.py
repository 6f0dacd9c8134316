"""In-memory diagnostic settings: the Monitor port with ARM's answers (a list, 404, 403)."""

from __future__ import annotations

from shared.domain.ids import ResourceId
from shared.domain.log_routing import DiagnosticSetting
from shared.errors import AccessDeniedError, NotFoundError

__all__ = ["MemoryMonitor"]


class MemoryMonitor:
    """Implements the Monitor port; tests add resources, settings, and refusals."""

    def __init__(self) -> None:
        self._settings: dict[str, dict[str, DiagnosticSetting]] = {}
        self._denied: set[str] = set()
        self.calls = 0

    def add_resource(self, resource: ResourceId) -> None:
        """Make the resource exist, with no diagnostic setting (Azure's default)."""
        self._settings.setdefault(resource.key, {})

    def put_setting(self, resource: ResourceId, setting: DiagnosticSetting) -> None:
        """Create or replace a setting by name (names are case-insensitive, as in ARM)."""
        self._settings.setdefault(resource.key, {})[setting.name.lower()] = setting

    def delete_setting(self, resource: ResourceId, name: str) -> None:
        """Delete one setting; deleting one that is not there is no error (ARM answers 204)."""
        self._settings.get(resource.key, {}).pop(name.lower(), None)

    def deny(self, resource: ResourceId) -> None:
        """Answer reads of this resource's settings as ARM does without the read permission."""
        self._denied.add(resource.key)

    def diagnostic_settings(self, resource: ResourceId) -> list[DiagnosticSetting]:
        self.calls += 1
        if resource.key in self._denied:
            raise AccessDeniedError(
                f"reading the diagnostic settings of {resource.name}: AuthorizationFailed"
            )
        if resource.key not in self._settings:
            raise NotFoundError(f"reading the diagnostic settings of {resource.name}: not found")
        return sorted(self._settings[resource.key].values(), key=lambda s: s.name.lower())
