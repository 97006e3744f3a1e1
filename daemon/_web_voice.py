"""A voice as the page shows it: a summary line per voice and a readable parameter table."""

from __future__ import annotations

from typing import Any

from dx7d.voices import CURVE_NAMES, Bank, Patch

__all__ = ["bank_summary", "frequency_text", "note_name", "voice_table"]

_NOTES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(value: int, offset: int) -> str:
    """A key as the DX7 shows it: ``value`` + ``offset`` semitones above A-1 (value 0)."""
    key = value + offset  # 0 = A-1
    return f"{_NOTES[(key + 9) % 12]}{(key + 9) // 12 - 1}"


def frequency_text(patch: Patch, op: int) -> str:
    """'x1.00' for a ratio (coarse 0 = 0.5), '440.0 Hz' for a fixed operator (DX7.md)."""
    o = patch.op[op]
    if o.frequency_mode:
        return f"{10 ** ((o.frequency_coarse % 4) + o.frequency_fine / 100):.1f} Hz"
    coarse = 0.5 if o.frequency_coarse == 0 else float(o.frequency_coarse)
    return f"x{coarse * (1 + o.frequency_fine / 100):.2f}"


def bank_summary(bank: Bank) -> list[dict[str, Any]]:
    """Per voice: number 1-32, name (as stored), display (readable), algorithm, feedback."""
    return [{"number": i + 1, "name": p.name, "display": _display(p),
             "algorithm": p.algorithm + 1, "feedback": p.feedback} for i, p in enumerate(bank)]


def _display(patch: Patch) -> str:
    """The name for people: bytes a DX7 cannot show as \\xNN (Patch.display_name)."""
    shown: str = getattr(patch, "display_name", patch.name.rstrip())
    return shown


def voice_table(patch: Patch) -> dict[str, Any]:
    """The voice's parameters grouped as on the panel, values as a DX7 shows them."""
    lfo = patch.lfo
    pitch = patch.pitch_envelope
    operators = []
    for i in range(6):
        o = patch.op[i]
        env = o.envelope
        operators.append({
            "op": i + 1, "on": o.enabled, "level": o.output_level,
            "mode": "fixed" if o.frequency_mode else "ratio",
            "frequency": frequency_text(patch, i),
            "coarse": o.frequency_coarse, "fine": o.frequency_fine, "detune": o.detune - 7,
            "rates": list(env.rates), "levels": list(env.levels),
            "break_point": note_name(o.breakpoint, 0),
            "left": f"{CURVE_NAMES[o.left_curve]} {o.left_depth}",
            "right": f"{CURVE_NAMES[o.right_curve]} {o.right_depth}",
            "rate_scaling": o.rate_scaling, "amp_mod": o.amp_mod_sensitivity,
            "velocity": o.velocity_sensitivity,
        })
    return {
        "name": patch.name,
        "global": {
            "algorithm": patch.algorithm + 1, "feedback": patch.feedback,
            "osc_key_sync": "on" if patch.osc_key_sync else "off",
            "transpose": note_name(patch.transpose, 15),  # 24 = C3 on a DX7
            "lfo": {"wave": lfo.wave, "speed": lfo.speed, "delay": lfo.delay,
                    "pitch_mod_depth": lfo.pitch_mod_depth, "amp_mod_depth": lfo.amp_mod_depth,
                    "key_sync": "on" if lfo.sync else "off"},
            "pitch_mod_sensitivity": patch.pitch_mod_sensitivity,
            "pitch_envelope": {"rates": list(pitch.rates), "levels": list(pitch.levels)},
        },
        "operators": operators,
    }
