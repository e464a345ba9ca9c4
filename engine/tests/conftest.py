"""Fixtures the engine's serving tests share."""

import pytest


@pytest.fixture
def media(settings, tmp_path):
    """A fresh media folder, and no pipeline warm-up after a deploy (the tests load it)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.STUDIO_SERVING_WARM_UP = False
    return settings.MEDIA_ROOT
