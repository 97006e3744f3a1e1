"""dx7d.engine_cpp: the C++ FM engine, JIT-compiled by cppyy, behind a numpy facade."""

__all__: list[str] = []
