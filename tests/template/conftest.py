"""Fixtures for the template tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import pytest
from support import FRAMEWORKS, InstalledRepo, Variants


@pytest.fixture(scope="session", params=FRAMEWORKS)
def installed(request, installations) -> InstalledRepo:
    """One generated repo per framework, installed in its own venv."""
    return installations(request.param)


@pytest.fixture(scope="session")
def variants(render, tmp_path_factory) -> Variants:
    """Every (framework, python_version) variant, rendered once per session when first asked."""
    return Variants(render, tmp_path_factory.mktemp("variants"))
