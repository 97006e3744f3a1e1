"""dx7d.engine_cpp: the C++ FM engine, JIT-compiled by cppyy, behind a numpy facade.

``Synth`` is the real-time engine; ``OfflineSynth`` and ``render_batch`` render notes
offline with dexed-py's call shapes (one note, or N voices on every core). C++ sources
(dx7_*.h/.cpp) ship as package data and are compiled once per process on first use.
"""

from ._errors import EngineError
from ._graph import GraphEnvelope, GraphError, GraphOperator, OperatorGraph
from ._jax import JaxRenderer
from ._offline import DEFAULT_SAMPLE_RATE, OfflineSynth, note_frames, render_batch, voices_to_sysex
from ._synth import REFERENCE_SCALE, HasVced, Synth

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "REFERENCE_SCALE",
    "EngineError",
    "GraphEnvelope",
    "GraphError",
    "GraphOperator",
    "HasVced",
    "JaxRenderer",
    "OfflineSynth",
    "OperatorGraph",
    "Synth",
    "note_frames",
    "render_batch",
    "voices_to_sysex",
]
