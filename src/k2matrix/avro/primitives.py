"""Avro binary primitives shared by the K2 encoders: zig-zag varints, the Confluent wire
header, and the conversions of K2 Python values (``datetime``, ``Decimal``) to Avro.

Every function here produces exactly the bytes fastavro's ``schemaless_writer`` writes for
the same value (decimals: two's complement, big-endian, ``(bit_length(|x|) + 8) // 8``
bytes, as fastavro sizes them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import struct
import zoneinfo
from decimal import Decimal

MAGIC_BYTE = b"\x00"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _utc_epochs() -> dict[dt.tzinfo | None, dt.datetime]:
    zones: list[dt.tzinfo | None] = [dt.UTC, None]
    for key in ("UTC", "Etc/UTC"):
        with contextlib.suppress(Exception):  # no tz database: only timezone.utc and naive
            zones.append(zoneinfo.ZoneInfo(key))
    return {tz: dt.datetime(1970, 1, 1, tzinfo=tz) for tz in zones}


# The epoch in each tzinfo that is always UTC (naive: read as UTC). Subtracting two
# datetimes that share a tzinfo skips the utcoffset() calls, which makes the difference
# faster for ZoneInfo("UTC") (what pyarrow gives; docs/measurements.md) and is exact for a
# zero offset.
UTC_EPOCHS = _utc_epochs()
ONE_MICROSECOND = dt.timedelta(microseconds=1)
ONE_MILLISECOND = dt.timedelta(milliseconds=1)

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_ZIGZAG_LIMIT = 2**64


def varint_unsigned(z: int) -> bytes:
    """The varint of an already zig-zagged (or non-negative) ``z``."""
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


# VARINT[z]: the varint of an already zig-zagged z < 2**14 (one or two bytes).
VARINT: tuple[bytes, ...] = tuple(varint_unsigned(z) for z in range(1 << 14))
# CHUNK14[x]: 14 low bits x as two varint bytes, both with the continuation bit set.
CHUNK14: tuple[bytes, ...] = tuple(
    bytes(((x & 0x7F) | 0x80, (x >> 7) | 0x80)) for x in range(1 << 14)
)
# LENGTH[n]: the Avro long n >= 0 (a length or count) for n < 2**13.
LENGTH: tuple[bytes, ...] = VARINT[0 : 1 << 14 : 2]
NULL_BRANCH = b"\x00"
VALUE_BRANCH = b"\x02"
END_OF_BLOCKS = b"\x00"


def encode_long(n: int) -> bytes:
    """Avro ``long``: zig-zag then varint. Raises OverflowError outside 64 bits and
    TypeError for anything but a plain ``int`` (``bool`` included)."""
    if n.__class__ is not int:
        raise TypeError(f"expected an int, got {type(n).__name__}")
    z = (n << 1) ^ (n >> 63)  # >= 2**64 for any n outside the 64-bit range
    if z < 0x4000:
        return VARINT[z]
    if z < 0x10000000:
        return CHUNK14[z & 0x3FFF] + VARINT[z >> 14]
    if z < 0x40000000000:
        return CHUNK14[z & 0x3FFF] + CHUNK14[(z >> 14) & 0x3FFF] + VARINT[z >> 28]
    if z >= _ZIGZAG_LIMIT:
        raise OverflowError(f"{n} does not fit in a 64-bit Avro long")
    out = CHUNK14[z & 0x3FFF] + CHUNK14[(z >> 14) & 0x3FFF] + CHUNK14[(z >> 28) & 0x3FFF]
    z >>= 42
    while z >= 0x4000:
        out += CHUNK14[z & 0x3FFF]
        z >>= 14
    return out + VARINT[z]


def encode_int(n: int) -> bytes:
    """Avro ``int``: a long restricted to 32 bits."""
    if n.__class__ is int and not INT_MIN <= n <= INT_MAX:
        raise OverflowError(f"{n} does not fit in a 32-bit Avro int")
    return encode_long(n)


def encode_length(n: int) -> bytes:
    """A non-negative length or block count."""
    return LENGTH[n] if n < 0x2000 else encode_long(n)


def encode_string(s: str) -> bytes:
    b = s.encode()
    return encode_length(len(b)) + b


def decimal_unscaled(value: Decimal, precision: int, scale: int) -> int:
    """The unscaled integer of ``value`` at ``scale``; ValueError if ``value`` has more
    fractional digits than ``scale`` or more digits than ``precision``."""
    numerator, denominator = value.as_integer_ratio()  # exact, whatever the context
    if 10**scale % denominator:
        raise ValueError(f"has more than {scale} fractional digits")
    unscaled: int = numerator * (10**scale // denominator)
    if not -(10**precision) < unscaled < 10**precision:
        raise ValueError(f"has more than {precision} digits")
    return unscaled


def decimal_bytes(unscaled: int) -> bytes:
    """The Avro ``bytes`` (length prefix included) of a decimal's unscaled integer."""
    size = ((unscaled if unscaled >= 0 else -unscaled).bit_length() + 8) >> 3
    return LENGTH[size] + unscaled.to_bytes(size, "big", signed=True)


def timestamp_units(value: dt.datetime | int, unit: dt.timedelta) -> int:
    """A timestamp as an integer count of ``unit`` since the epoch.

    Aware datetimes are exact; naive datetimes are read as UTC (K2 timestamps are UTC);
    integers are taken as already counted in ``unit`` (as fastavro does).
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return (value - EPOCH) // unit
    if value.__class__ is int:
        return value
    raise TypeError(f"expected a datetime, got {type(value).__name__}")


def confluent_header(schema_id: int) -> bytes:
    """The Confluent wire-format prefix: magic byte 0 and the 4-byte big-endian schema id."""
    return MAGIC_BYTE + struct.pack(">I", schema_id)


def split_confluent(payload: bytes) -> tuple[int, bytes]:
    """``(schema_id, avro_body)`` of a Confluent wire-format message."""
    if len(payload) < 5 or payload[:1] != MAGIC_BYTE:
        raise ValueError("not a Confluent wire-format message (magic byte 0 + schema id)")
    (schema_id,) = struct.unpack(">I", payload[1:5])
    return schema_id, payload[5:]
