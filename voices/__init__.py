"""dx7d.voices: DX7 voices, cartridges and the sysex codec (pure Python)."""

__all__: list[str] = []
