"""Renders of the chart, once per session: one per values variant in ``chart.VARIANTS``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.chart import VARIANTS, profile_values, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """variant name -> every rendered object."""
    return {name: render(profile_values(p, extra)) for name, (p, extra) in VARIANTS.items()}
