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


def floor_int(value: Fraction) -> int:
    return value.numerator // value.denominator


def ceil_int(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def plain(d: Decimal) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros after the point."""
    if d == d.to_integral_value():
        return f"{d.quantize(Decimal(1)):f}"
    return f"{d.normalize():f}"


def fmt(value: Decimal | None, places: int = 2) -> str:
    """Fixed-point text of a rounded value ('—' for missing)."""
    if value is None:
        return "—"
    return f"{round_half_up(value, places):.{places}f}"


__all__ = ["dec", "exact", "round_half_up", "floor_int", "ceil_int", "fmt", "plain", "ROUND_FLOOR"]
