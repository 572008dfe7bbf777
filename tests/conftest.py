"""Shared fixtures: paths to the sample study and to the team's real test data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_STUDY = REPO_ROOT / "data" / "changzhou" / "study.toml"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Folder of real public test data (``../shared/data``); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real test data not found at {SHARED_DATA}: this test needs the team's "
            "shared/data folder beside the repository (a fresh user clone does not have it)"
        )
    return SHARED_DATA


@pytest.fixture
def sample_study_path() -> Path:
    """The embedded Changzhou sample study."""
    return SAMPLE_STUDY
