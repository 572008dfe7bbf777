"""Shared fixtures: paths to the sample study and to the team's real test data."""

from __future__ import annotations

import shutil
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


@pytest.fixture
def study_dir(tmp_path: Path, sample_study_path: Path) -> Path:
    """A copy of the sample study's folder, to edit."""
    folder = tmp_path / "study"
    shutil.copytree(sample_study_path.parent, folder)
    return folder


def edit_study(folder: Path, old: str, new: str) -> Path:
    """Replace the first ``old`` (which must be there) by ``new`` in ``folder/study.toml``."""
    path = folder / "study.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path
