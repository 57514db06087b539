"""Fixtures for the template tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import pytest
from support import FRAMEWORKS, InstalledRepo


@pytest.fixture(scope="session", params=FRAMEWORKS)
def installed(request, installations) -> InstalledRepo:
    """One generated repo per framework, installed in its own venv."""
    return installations(request.param)
