"""A fake GitHub for every test here, and settings pointing the integration at it."""

from typing import Any

import pytest

from tests.fakes.github import FakeGitHub
from tests.github.support import github_settings


@pytest.fixture
def settings_overrides(gh: FakeGitHub) -> dict[str, Any]:
    """The integration on, with auto-created issues."""
    return github_settings(gh)
