"""dx7d.daemon: the long-running sound module service and the `dx7d` command line."""

__all__: list[str] = []
