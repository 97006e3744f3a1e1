"""dx7d.engine_cpp: the C++ FM engine, JIT-compiled by cppyy, behind a numpy facade.

``Synth`` is the whole public surface; C++ sources (dx7_*.h/.cpp) ship as package data
and are compiled once per process on the first ``Synth(...)``.
"""

from ._errors import EngineError
from ._synth import REFERENCE_SCALE, HasVced, Synth

__all__ = ["REFERENCE_SCALE", "EngineError", "HasVced", "Synth"]
