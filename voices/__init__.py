"""dx7d.voices: DX7 voices, cartridges and the sysex codec (pure Python, no threads).

* :class:`Patch` - one voice, every parameter by name, range-checked;
  VCED (155 bytes) and VMEM (128 packed bytes) round trips, a flat float32 vector.
* :class:`Preset` - the ML form of a voice: one flat (145,) float32 vector in
  dexed-py's element order, named normalised fields, a jax PyTree when jax is used.
* :class:`Bank` - a cartridge of 32 patches: lenient file reading
  (:class:`BankReadReport`), exact 4104-byte dumps.
* :func:`parse_sysex` - strict parsing of every message a DX7 takes, into frozen
  message objects; builders for each; :class:`SysexError` says what and where.
* ``algorithms`` - the 32 algorithms as data, with ASCII drawings.
"""

import logging

from ._algorithms import (
    ALGORITHMS,
    Algorithm,
    algorithms,
    draw_algorithm,
    get_carriers,
    get_feedback_edge,
    get_mod_matrix,
    get_modulators,
)
from ._bank import BANK_SIZE, Bank, BankReadReport
from ._errors import SysexError
from ._files import atomic_write, parse_voice_spec
from ._patch import (
    ARRAY_PARAMETERS,
    CURVE_NAMES,
    INIT_VOICE,
    LFO_WAVES,
    Envelope,
    Lfo,
    Operator,
    Patch,
)
from ._preset import (
    PRESET_FIELDS,
    PRESET_LAYOUT,
    PRESET_SIZE,
    Preset,
    PresetField,
    PresetSlot,
    array_to_sysex,
    sysex_to_array,
)
from ._spec import FUNCTION_PARAMETERS, PARAMETER_BY_KEY, PARAMETERS, FunctionParam, Param
from ._sysex import (
    BankDump,
    DumpRequest,
    FunctionParameterChange,
    SysexMessage,
    VoiceDump,
    VoiceParameterChange,
    bank_dump,
    checksum,
    dump_request,
    function_parameter_change,
    parse_sysex,
    voice_dump,
    voice_parameter_change,
)

# A library logs and lets the application decide where it goes (no "lastResort" output).
logging.getLogger("dx7d.voices").addHandler(logging.NullHandler())

__all__ = [
    "ALGORITHMS",
    "ARRAY_PARAMETERS",
    "BANK_SIZE",
    "CURVE_NAMES",
    "FUNCTION_PARAMETERS",
    "INIT_VOICE",
    "LFO_WAVES",
    "PARAMETERS",
    "PARAMETER_BY_KEY",
    "PRESET_FIELDS",
    "PRESET_LAYOUT",
    "PRESET_SIZE",
    "Algorithm",
    "Bank",
    "BankDump",
    "BankReadReport",
    "DumpRequest",
    "Envelope",
    "FunctionParam",
    "FunctionParameterChange",
    "Lfo",
    "Operator",
    "Param",
    "Patch",
    "Preset",
    "PresetField",
    "PresetSlot",
    "SysexError",
    "SysexMessage",
    "VoiceDump",
    "VoiceParameterChange",
    "algorithms",
    "array_to_sysex",
    "atomic_write",
    "bank_dump",
    "checksum",
    "draw_algorithm",
    "dump_request",
    "function_parameter_change",
    "get_carriers",
    "get_feedback_edge",
    "get_mod_matrix",
    "get_modulators",
    "parse_sysex",
    "parse_voice_spec",
    "sysex_to_array",
    "voice_dump",
    "voice_parameter_change",
]
