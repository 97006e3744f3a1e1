"""E2E fixtures: the audio backend a daemon test runs on."""

from __future__ import annotations

import pytest

from . import harness

BACKENDS = ("pyaudio", "native")  # audio.backend values that play through PortAudio


@pytest.fixture(params=BACKENDS)
def audio_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per PortAudio backend: DaemonProcess writes it as audio.backend
    (unless the test's own settings name one)."""
    backend: str = request.param
    monkeypatch.setattr(harness, "AUDIO_BACKEND", backend)
    return backend
