"""dx7d.config: the configuration schema, defaults and validation."""

__all__: list[str] = []
