"""Producer suite: Avro trades through the real Kafka protocol, timed, then verified.

Every cell: a real broker (librdkafka's mock cluster by default, or ``K2_KAFKA_BOOTSTRAP``),
the registry from the matrix, the producer the matrix names (``[components.producer] impl``,
see ``k2matrix.producer.protocol``) warmed up before timing (an idempotent producer's first
send takes ~0.5 s), and after timing: delivered == produced with zero delivery errors, and a
separate consumer reads the topic back and decodes every message (fastavro, writer schema
from the registry) equal to what was produced. A cell that fails this has no time.
``extra_info["counters"]`` gets the producer's ``kafka.*`` counters (Produce requests,
batches, bytes; ``k2matrix.producer.kafka_stats``), the mean per round of totals settled
before the first and after the last timed round (settling waits for the client's next
statistics, outside the timed rounds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from applicable import require_support
from pytest_benchmark.fixture import BenchmarkFixture

from k2matrix.backends.config import Backends
from k2matrix.backends.kafka import KafkaCluster, open_kafka
from k2matrix.backends.registry import delete_registered
from k2matrix.cell import Cell
from k2matrix.component_config import RegistrySettings
from k2matrix.matrix import Matrix
from k2matrix.producer.bench import extra_info, measure_memory
from k2matrix.producer.protocol import Record, TradeProducer
from k2matrix.producer.serializers import SerializerCache
from k2matrix.producer.suite import ProducerBench
from k2matrix.producer.verify import WireDecoder, normalize, verify_topic
from k2matrix.stats import throughput
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table

# Above this many messages a cell verifies a sample (and says so): the mock cluster keeps
# only ~5 MB per partition, so a full read-back of larger topics is impossible there.
FULL_DECODE_LIMIT = 150_000
SAMPLE = 50_000
PACED_LINGER_MS = 0  # the paced cell measures latency: send each message at once
ALTERNATIVES_MESSAGES = 50_000  # sustained cell: each serializer measured on this many
ALTERNATIVES = ("compiled", "arrow", "fastavro", "confluent")


@pytest.fixture(scope="module")
def kafka(k2_backends: Backends) -> Iterator[KafkaCluster]:
    with open_kafka(k2_backends.kafka) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def registry(k2_backends: Backends, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The registry client; for a ``mock://`` URL the one store every client of this process
    shares (a producer that opens its own client from the URL sees the same schemas). The
    subjects the cells registered or were handed are deleted at the end (a sweep leaves none
    behind on a shared registry) unless ``--k2-keep-subjects``."""
    client = RegistrySettings.of(k2_backends.schema_registry).client()
    yield client
    if not request.config.getoption("k2_keep_subjects"):
        delete_registered(client)


@pytest.fixture
def producers(kafka: KafkaCluster, registry: Any, k2_matrix: Matrix, k2_backends: Backends,
              k2_cell: Cell) -> Iterator[ProducerBench]:
    """The matrix's producer implementation, with the suite's measurements around it
    (``not_applicable`` when the cell's schema is outside what it supports)."""
    bench = ProducerBench(str(k2_cell.params.get("impl", k2_matrix.impls["producer"])), kafka,
                          registry,
                          k2_backends.schema_registry)
    require_support(bench.plugin, k2_cell)
    yield bench
    bench.close()


def _make(producers: ProducerBench, cell: Cell, **overrides: Any) -> TradeProducer:
    return producers.make(_schema(cell), cell.id, **overrides)


def _schema(cell: Cell) -> str:
    return cell.schema or "v2"


def _records(cell: Cell, rows: int, seed_offset: int = 0) -> list[dict[str, Any]]:
    return generate_records(WorkloadSpec.from_cell(cell, rows=rows, schema=_schema(cell),
                                                   seed_offset=seed_offset))


def _verify(producers: ProducerBench, producer: TradeProducer, records: list[dict[str, Any]],
            copies: int = 1, extra: tuple[Record, ...] = ()) -> str:
    producer.flush()  # raises unless every message was acknowledged
    total = len(records) * copies + len(extra)
    sample = SAMPLE if total > FULL_DECODE_LIMIT else None
    return verify_topic(producers.cluster, producers.registry, producer.topic, producer.schema,
                        records, copies=copies, extra=extra, sample=sample,
                        start=producers.start_offsets(producer)).describe()


def _median(benchmark: BenchmarkFixture) -> float:
    return float(benchmark.stats.stats.median)


def _rounds(benchmark: BenchmarkFixture) -> list[float]:
    return [float(v) for v in benchmark.stats.stats.data]


def _setup(reference: Any) -> Any:
    """The benchmark's untimed setup: one reference round before each timed round."""
    return reference.round if reference is not None else None


def _batch_cell(k2_cell: Cell, benchmark: BenchmarkFixture, producers: ProducerBench,
                rounds: int) -> None:
    """produce_trades(batch) + flush per round; ceiling; verify every round's messages."""
    batch = int(k2_cell.params["batch_size"])
    records = _records(k2_cell, batch)
    warm = _records(k2_cell, 1, seed_offset=1)[0]
    producer = _make(producers, k2_cell)
    reference = producers.reference(_schema(k2_cell), k2_cell.id,
                                    producers.payloads(producer, records),
                                    [r["symbol"] for r in records], warm)
    producers.warm_up(producer, warm)  # while the reference's producer warms up
    counted = producers.settled(producer)

    def run() -> None:
        producer.produce_trades(records)
        producer.flush()

    benchmark.pedantic(run, setup=_setup(reference), rounds=rounds, iterations=1,
                       warmup_rounds=0)
    report = producer.flush()
    producers.record_counters(benchmark.extra_info, producer, counted, rounds)
    verified = _verify(producers, producer, records, copies=rounds, extra=(warm,))
    seconds = _median(benchmark)
    benchmark.extra_info.update(extra_info(
        report, batch, seconds, reference, _rounds(benchmark), verified,
        **producers.serializer_kind(producer),
        per_message_us=round(seconds / batch * 1e6, 3), **producers.info()))


class TestProducerThroughput:
    @pytest.mark.k2(component="producer", case="single")
    def test_single_trade_latency(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                                  producers: ProducerBench,
                                  k2_rounds: Callable[[int], int]) -> None:
        rounds = k2_rounds(50)
        records = _records(k2_cell, rounds + 1)
        producer = _make(producers, k2_cell)
        reference = producers.reference(_schema(k2_cell), k2_cell.id,
                                        producers.payloads(producer, records[1:2]),
                                        [records[1]["symbol"]], records[0])
        producers.warm_up(producer, records[0])  # while the reference's producer warms up
        counted = producers.settled(producer)
        pending = iter(records[1:])

        def run() -> None:
            producer.produce_trade(next(pending))
            producer.flush()

        benchmark.pedantic(run, setup=_setup(reference), rounds=rounds, iterations=1,
                           warmup_rounds=0)
        report = producer.flush()
        producers.record_counters(benchmark.extra_info, producer, counted, rounds)
        verified = _verify(producers, producer, records[1:], extra=(records[0],))
        benchmark.extra_info.update(extra_info(report, 1, _median(benchmark), reference,
                                               _rounds(benchmark), verified,
                                               **producers.serializer_kind(producer),
                                               **producers.info()))

    @pytest.mark.k2(component="producer", case="batch")
    def test_batch_trade_throughput(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                                    producers: ProducerBench,
                                    k2_rounds: Callable[[int], int]) -> None:
        batch = int(k2_cell.params["batch_size"])
        _batch_cell(k2_cell, benchmark, producers, k2_rounds(20 if batch < 100 else 5))

    @pytest.mark.k2(component="producer", case="serializer_cache")
    def test_serializer_cache(self, k2_cell: Cell, benchmark: BenchmarkFixture, kafka: KafkaCluster,
                              registry: Any, k2_rounds: Callable[[int], int]) -> None:
        """Serialize one trade through the serializer cache: ``cold`` empties the cache
        before each round (register the schema, compile the encoder, encode), ``warm``
        reuses the cached serializer."""
        schema = _schema(k2_cell)
        cold = k2_cell.params["cache"] == "cold"
        rounds = k2_rounds(20)
        records = _records(k2_cell, rounds + 1)  # one for the warm-up round
        topic = kafka.topic_name(k2_cell.id)
        cache = SerializerCache()
        cache.get("compiled", registry, topic, schema)
        outputs: list[bytes] = []
        pending = iter(records)

        def setup() -> tuple[tuple[Record], dict[str, Any]]:
            if cold:
                cache.clear()
            return (next(pending),), {}

        def run(record: Record) -> None:
            outputs.append(cache.get("compiled", registry, topic, schema).serialize(record))

        benchmark.pedantic(run, setup=setup, rounds=rounds, iterations=1, warmup_rounds=1)
        decode = WireDecoder(registry)
        decoded = [decode(value) for value in outputs]
        assert [normalize(d, schema) for d in decoded] == [normalize(r, schema)
                                                            for r in records]
        benchmark.extra_info.update(
            items=1, unit="msg/s", messages=rounds, bytes=sum(map(len, outputs)),
            throughput=round(throughput(1, _median(benchmark)), 1), serializer="compiled",
            cache=k2_cell.params["cache"],
            verified=f"all {len(records)} values decoded (registry schema id + fastavro) equal")

    @pytest.mark.k2(component="producer", case="paced_latency")
    def test_paced_latency(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                           producers: ProducerBench) -> None:
        rate = int(k2_cell.get("paced_rate", 10_000))
        messages = int(k2_cell.get("paced_messages", 20_000))
        records = _records(k2_cell, messages)
        producer = _make(producers, k2_cell, linger_ms=PACED_LINGER_MS)
        producers.warm_up(producer, records[0])
        counted = producers.settled(producer)
        achieved: list[float] = []

        def run() -> None:
            achieved.append(producers.paced(producer, records, rate))
            producer.flush()

        benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
        report = producer.flush()
        producers.record_counters(benchmark.extra_info, producer, counted, 1)
        verified = _verify(producers, producer, records, extra=(records[0],))
        benchmark.extra_info.update(extra_info(
            report, messages, _median(benchmark), verified=verified, paced_rate=rate,
            achieved_rate=round(achieved[0], 1), linger_ms=PACED_LINGER_MS,
            compare_on="latency_p99_ms",  # the pace fixes the round time: compare the tail
            **producers.serializer_kind(producer), **producers.info()))

    @pytest.mark.slow
    @pytest.mark.k2(component="producer", case="sustained")
    def test_sustained_throughput(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                                  producers: ProducerBench) -> None:
        """Sustained: an Arrow batch of trades serialized column-wise (numpy) and produced,
        in 8192-row chunks, then flushed (a producer without the Arrow path produces the
        same rows as records). The other serializers are measured on the first records in
        the same cell (``alternatives``) for comparison."""
        messages = int(k2_cell.get("sustained_messages", 200_000))
        spec = WorkloadSpec.from_cell(k2_cell, rows=messages, schema=_schema(k2_cell))
        table = generate_table(spec)
        records = generate_records(spec)
        producer = _make(producers, k2_cell)
        producers.warm_up(producer, records[0])
        arrow = producers.arrow_path(producer)
        if arrow:
            producer.serialize_table(table.slice(0, 100))
        values = (producer.serialize_table(table)
                  if arrow else producers.payloads(producer, records))
        reference = producers.reference(_schema(k2_cell), k2_cell.id, values,
                                        table.column("symbol").to_pylist(), records[0])
        chunk_rates: list[float] = []
        counted = producers.settled(producer)

        def run() -> None:
            for start in range(0, messages, 8192):
                began = time.perf_counter()
                rows = producers.produce_chunk(producer, table, records, start, 8192, arrow)
                chunk_rates.append(rows / (time.perf_counter() - began))
            producer.flush()

        benchmark.pedantic(run, setup=_setup(reference), rounds=1, iterations=1,
                           warmup_rounds=0)
        report = producer.flush()
        producers.record_counters(benchmark.extra_info, producer, counted, 1)
        verified = _verify(producers, producer, records, extra=(records[0],))
        serializer = {"serializer": "arrow-table"} if arrow else producers.serializer_kind(
            producer)
        alternatives = producers.alternatives(_schema(k2_cell), k2_cell.id,
                                              records[:ALTERNATIVES_MESSAGES], ALTERNATIVES)
        benchmark.extra_info.update(extra_info(
            report, messages, _median(benchmark), reference, _rounds(benchmark), verified,
            **serializer,
            series={"chunk_produce_msg_s": [round(r, 1) for r in chunk_rates]},
            **({"alternatives": alternatives} if alternatives else {}), **producers.info()))


class TestProducerScaling:
    @pytest.mark.k2(component="producer", case="scaling")
    def test_throughput_vs_batch_size(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                                      producers: ProducerBench,
                                      k2_rounds: Callable[[int], int]) -> None:
        _batch_cell(k2_cell, benchmark, producers, k2_rounds(5))

    @pytest.mark.slow
    @pytest.mark.k2(component="producer", case="memory")
    def test_memory_per_message(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                                producers: ProducerBench) -> None:
        """Memory per message over ``memory_messages``: RSS growth in the timed round
        (librdkafka's queues included; with the mock cluster its in-process brokers' logs
        too), then the Python heap peak under tracemalloc over a tenth of the messages."""
        wanted = int(k2_cell.get("memory_messages", 1_000_000))
        records = _records(k2_cell, min(wanted, 100_000))
        copies = wanted // len(records)
        total = copies * len(records)
        producer = _make(producers, k2_cell)
        producers.warm_up(producer, records[0])
        counted = producers.settled(producer)
        footprints = []

        def run() -> None:
            footprints.append(measure_memory(producer, records, total, trace=False))

        benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=0)
        report = producer.flush()
        producers.record_counters(benchmark.extra_info, producer, counted, 1)
        verified = _verify(producers, producer, records, copies=copies, extra=(records[0],))
        traced = _make(producers, k2_cell)
        producers.warm_up(traced, records[0])
        heap = measure_memory(traced, records, max(len(records), total // 10), trace=True)
        info = extra_info(report, total, _median(benchmark), verified=verified,
                          **footprints[0].extra_info(), **producers.info())
        info.update(python_peak_bytes=heap.python_peak_bytes, python_traced_messages=heap.messages,
                    python_peak_bytes_per_msg=heap.extra_info()["python_peak_bytes_per_msg"])
        info["kafka_mode"] = producers.cluster.mode
        benchmark.extra_info.update(info)
