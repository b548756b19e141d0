"""Exact arithmetic helpers. Every score is a Decimal; rounding is half up (四舍五入)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

Number = Decimal | int | str | Fraction


def dec(value: Number) -> Decimal:
    """Convert an int, str, Decimal or Fraction to Decimal without binary float error."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Fraction):
        with localcontext() as ctx:
            ctx.prec = 50
            return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):  # only reached from TOML floats: go through repr
        return Decimal(repr(value))
    return Decimal(value)


def exact(value: Number) -> Fraction:
    """Exact rational value (no precision loss in divisions)."""
    if isinstance(value, Fraction):
        return value
    return Fraction(dec(value))


def round_half_up(value: Number, places: int = 2) -> Decimal:
    """Round half up (四舍五入) to ``places`` decimals, exactly, never banker's rounding."""
    quantum = Decimal(1).scaleb(-places)
    if isinstance(value, Fraction):
        # Scale, then add one half and floor: exact for any rational.
        scaled = value * (10**places)
        sign = -1 if scaled < 0 else 1
        mag = abs(scaled)
        whole = (mag.numerator * 2 + mag.denominator) // (2 * mag.denominator)
        return (Decimal(sign * whole) * quantum).quantize(quantum)
    with localcontext() as ctx:
        ctx.prec = 60
        return dec(value).quantize(quantum, rounding=ROUND_HALF_UP)


def nearest(value: float) -> int:
    """A measurement (a length in pixels, a print scale in percent) to the nearest whole number, half up."""
    return int(round_half_up(Decimal(repr(float(value))), 0))


def floor_int(value: Fraction) -> int:
    return value.numerator // value.denominator


def ceil_int(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def plain(d: Decimal) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros after the point, "-0" as "0".

    Exact for any finite value (no rounding to the context's precision, no InvalidOperation for a
    value of 1e28 or 1e308 typed into a cell)."""
    if not d.is_finite():
        return str(d)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def sci(d: Decimal) -> str:
    """A very large (or small) finite value in short scientific notation, as Excel shows it: 1e+308, 1.5e+20."""
    mantissa, _, exponent = format(d, ".5e").partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def decimal_places(d: Decimal) -> int:
    """Decimals a finite value needs, without trailing zeros (8.50 → 1, 8.00000000000000000000000000001 → 29),
    exactly: no rounding to the context's precision."""
    _, digits, exp = d.as_tuple()
    if not isinstance(exp, int):
        return 0
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exp + zeros)) if any(digits) else 0


def fmt(value: Decimal | None, places: int = 2) -> str:
    """Fixed-point text of a rounded value ('—' for missing)."""
    if value is None:
        return "—"
    return f"{round_half_up(value, places):.{places}f}"


__all__ = ["dec", "exact", "round_half_up", "floor_int", "ceil_int", "fmt", "plain", "sci", "decimal_places", "ROUND_FLOOR"]
