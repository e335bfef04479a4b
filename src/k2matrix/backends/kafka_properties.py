"""librdkafka's own verdict on the properties of ``[backends.kafka.client]``, asked when the
matrix loads: a client is configured with each property and nothing connects, so a wrong name
or value is a matrix problem (exit 2) naming the key, not a failure in the middle of a
sweep."""

from __future__ import annotations

import logging
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaException, Producer

_QUIET = logging.getLogger("k2matrix.kafka.check")
_QUIET.propagate = False
_QUIET.addHandler(logging.NullHandler())


def property_problem(properties: dict[str, Any]) -> dict[str, str]:
    """{property: what is wrong with it} ({} when librdkafka accepts every one)."""
    problems: dict[str, str] = {}
    version = confluent_kafka.libversion()[0]
    for key, value in properties.items():
        try:
            Producer({key: value, "logger": _QUIET}).close()
        except (KafkaException, TypeError, ValueError) as exc:
            error = exc.args[0] if exc.args else exc
            text = error.str() if hasattr(error, "str") else str(error)
            problems[key] = (f"librdkafka {version} refuses it: {text}; see librdkafka's "
                             "CONFIGURATION.md for the property's name and values")
    return problems
