"""The pipeline's sink: a consumer of the topic feeding the buffered Iceberg writer.

It reads every partition of the topic (assigned explicitly, in consumer group ``group``),
buffers the Confluent-wire Avro values (the 5-byte header checked for the magic byte) and
commits them, decoded in bulk (:mod:`k2matrix.pipeline.decode`, the writer schema is the
cell's), once the oldest buffered row was produced ``commit_interval_ms`` ago less the time
recent commits took to reach the table (its Kafka ``CreateTime``: freshness counts from the
produce call, so the wait does too; the lead is at most half the interval) or every
``commit_rows`` rows, whichever comes first. Each commit carries the Kafka position after its
rows in the snapshot summary (:mod:`k2matrix.pipeline.offsets`), and a starting sink resumes
from there: exactly once.

A commit is two stages, each on a thread of its own: decode, then the Iceberg append, so
one batch decodes while the one before is appended, and the sink goes on consuming
meanwhile (DuckDB, Parquet writing and the consumer release the GIL). At most
``MAX_IN_FLIGHT`` commits are under way; appends run one at a time and in order, so the
table's snapshots and their positions stay in consumption order, and once an append fails
no later one is made (it would record a position past rows that are not in the table). A
commit due while the stages are full waits by consuming on (unless two commits' worth of
rows are buffered), not blocked in the wait.

Per commit it records the commit latency, and the produce timestamps of its rows (the Kafka
``CreateTime``, set by the client at the produce call) for freshness; per message the
produce-to-consume latency; every ``lag_every_s`` the consumer lag (high watermark minus
position, summed over partitions).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from k2matrix.backends.kafka import KafkaCluster
from k2matrix.errors import BackendError
from k2matrix.pipeline.decode import AvroDecoder
from k2matrix.pipeline.offsets import encode, merge_positions, snapshot_offsets
from k2matrix.pipeline.sinkstats import CommitInfo, SinkStats, record_ms
from k2matrix.writer.iceberg import IcebergWriter

MAGIC = 0
FETCH_WAIT_MS = 20
# how long a gap in a partition's offsets is read again before it counts as a hole or a loss
# (Tansu served a batch it had left out of a fetch within the next fetches)
GAP_GRACE_S = 0.25
MAX_IN_FLIGHT = 2  # commits under way: one decoding, one appending


class FellBehind(BackendError):
    """The broker dropped messages the sink had not read yet (retention): the sink did not
    keep up with its producers. A measured outcome of a run, not a loss by the pipeline."""

    def __init__(self, message: str, partition: int, dropped: int) -> None:
        super().__init__(message)
        self.partition, self.dropped = partition, dropped


class Sink:
    def __init__(self, cluster: KafkaCluster, topic: str, writer: IcebergWriter,
                 table_name: str, schema: str, *, commit_interval_ms: int = 1000,
                 commit_rows: int = 100_000, group: str | None = None,
                 lag_every_s: float = 0.5, gap_grace_s: float = GAP_GRACE_S,
                 stats: SinkStats | None = None) -> None:
        if commit_interval_ms < 1 or commit_rows < 1:
            raise ValueError(f"commit_interval_ms={commit_interval_ms!r}, commit_rows="
                             f"{commit_rows!r}: both must be positive")
        self.cluster, self.topic, self.writer = cluster, topic, writer
        self.table_name, self.schema = table_name, schema
        self.commit_interval_s = commit_interval_ms / 1e3
        self.commit_rows = commit_rows
        self.lag_every_s = lag_every_s
        self.gap_grace_s = gap_grace_s
        self._gaps: dict[int, tuple[int, float]] = {}  # partition -> (missing offset, since)
        self.stats = stats or SinkStats()
        self._decoder = AvroDecoder(schema, f"topic {topic}")
        self._decoding = ThreadPoolExecutor(1, thread_name_prefix="k2-sink-decode")
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="k2-sink-commit")
        self._inflight: deque[tuple[Future[None], int, dict[int, int]]] = deque()
        self._broken = False  # an append failed: no later one may be made
        self._values: list[bytes] = []
        self._ts: list[int] = []
        self._since = 0.0
        self._lead_s = 0.0  # how long a commit took to be in the table once due (smoothed)
        self.skipped = 0  # messages the broker dropped before they were read
        self._last_lag = 0.0
        writer.ensure_table(table_name, schema)
        self.position = snapshot_offsets(writer.table(table_name), topic)
        self.resumed_from = dict(self.position)
        conf = cluster.consumer_config(group)
        # freshness is the figure: a fetch waits at most FETCH_WAIT_MS for data, not
        # librdkafka's default 500 ms (docs/measurements.md)
        conf["fetch.wait.max.ms"] = FETCH_WAIT_MS
        if self.position:
            # resuming: a position the broker no longer holds (retention) is an error, never
            # a silent jump to the earliest or latest offset
            conf["auto.offset.reset"] = "error"
        self._consumer = Consumer(conf)
        self._partitions = self._discover()
        self._consumer.assign([TopicPartition(topic, p, self.position.get(p, OFFSET_BEGINNING))
                               for p in self._partitions])

    def _discover(self, timeout: float = 10.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topics = self._consumer.list_topics(self.topic, timeout=2.0).topics
            except KafkaException as exc:
                raise BackendError(f"topic {self.topic} on {self.cluster.bootstrap_servers}: "
                                   f"{exc.args[0].str() if exc.args else exc}; check that the "
                                   "brokers are up") from None
            meta = topics.get(self.topic)
            if meta is not None and meta.error is None and meta.partitions:
                return sorted(meta.partitions)
            time.sleep(0.1)
        raise BackendError(f"topic {self.topic} on {self.cluster.bootstrap_servers} has no "
                           f"partitions after {timeout:g} s: produce to it first")

    @property
    def pending(self) -> int:
        """Rows consumed and not yet in the table (buffered or being committed)."""
        return len(self._values) + sum(rows for _, rows, _ in self._inflight)

    def step(self, timeout: float = 0.05, max_messages: int = 5000) -> int:
        """Consume what is there (up to ``max_messages``), commit if due; messages read."""
        began = time.thread_time()  # CPU: a consume call also waits for the fetch
        try:
            msgs = self._consumer.consume(max_messages, timeout)
        except KafkaException as exc:
            raise BackendError(f"consume from {self.topic}: {exc}") from None
        while self._inflight and self._inflight[0][0].done():
            self._settle_one()
        if msgs:
            self._take(msgs)
            self.stats.stages_s["consume"] += time.thread_time() - began
        due = self._values and (len(self._values) >= self.commit_rows
                                or time.time() - self._since >= self._due_age_s())
        if due and (len(self._inflight) < MAX_IN_FLIGHT
                    or len(self._values) >= 2 * self.commit_rows):
            self.commit()
        if time.monotonic() - self._last_lag >= self.lag_every_s:
            self.sample_lag()
        return len(msgs)

    def _take(self, msgs: list[Message]) -> None:
        """Check a consumed batch and buffer it."""
        now_ms = time.time() * 1e3
        # one pass per field, in comprehensions: at 100K messages/s a loop of appends
        # and dict updates per message was the sink's main-thread cost
        failed = [m for m in msgs if m.error() is not None]
        if failed:
            self._failed(failed[0])
        values: list[bytes] = [m.value() or b"" for m in msgs]
        if not all(v and v[0] == MAGIC for v in values):
            bad = next(m for m, v in zip(msgs, values, strict=True) if not v or v[0] != MAGIC)
            raise BackendError(f"{self.topic}[{bad.partition()}]@{bad.offset()}: not a "
                               "Confluent-wire Avro value")
        parts = [int(m.partition() or 0) for m in msgs]
        offs = [int(m.offset() or 0) for m in msgs]
        if not self._contiguous(parts, offs):
            keep = self._accept(parts, offs)
            msgs = [msgs[i] for i in keep]
            values = [values[i] for i in keep]
            parts = [parts[i] for i in keep]
            offs = [offs[i] for i in keep]
        if not msgs:
            return
        stamps = [m.timestamp()[1] for m in msgs]
        last = dict(zip(parts, offs, strict=True))  # the last offset of each partition
        oldest = min(stamps) / 1e3
        self._since = oldest if not self._values else min(self._since, oldest)
        self._values.extend(values)
        self._ts.extend(stamps)
        self.stats.consumed += len(msgs)
        self.position = merge_positions(self.position, {p: o + 1 for p, o in last.items()})
        record_ms(self.stats.consume_latency, now_ms - np.asarray(stamps))

    def _failed(self, msg: Message) -> None:
        """A consumed error: falling behind the broker's retention (the position is gone:
        librdkafka's offset reset with ``auto.offset.reset = error``) is :class:`FellBehind`,
        anything else a BackendError."""
        err = msg.error()
        if err is not None and err.code() == KafkaError._AUTO_OFFSET_RESET:
            p = int(msg.partition() or 0)
            marks = self._watermarks(p, timeout=2.0)
            expected = self.position.get(p, 0)
            dropped = max(0, marks[0] - expected) if marks is not None else 0
            raise FellBehind(f"{self.topic}[{p}]: the sink's position {expected} is gone from "
                             f"the broker ({err.str()}): the sink fell behind its retention",
                             p, dropped)
        raise BackendError(f"consume from {self.topic}: {err}")

    def _contiguous(self, parts: list[int], offs: list[int]) -> bool:
        """Whether each partition's messages continue its position without a gap (the fast
        path: one pass over the batch)."""
        first = dict(zip(reversed(parts), reversed(offs), strict=True))
        last = dict(zip(parts, offs, strict=True))
        counts = Counter(parts)
        return all(start == self.position.get(p, 0) and last[p] - start + 1 == counts[p]
                   for p, start in first.items())

    def _accept(self, parts: list[int], offs: list[int]) -> list[int]:
        """The indexes of the messages that continue their partition's position; a
        partition with a gap keeps what comes before it and is read again from the first
        missing offset, until the gap has stood for ``gap_grace_s`` (Tansu leaves a batch
        out of a fetch and serves it in a later one). A gap that stands is a loss when the
        partition's low watermark is past it (BackendError: the broker dropped messages
        before they were read; the librdkafka mock cluster keeps at most 5 MiB or 100,000
        message sets a partition, a real broker's retention does the same), otherwise a
        hole (transaction markers, compaction) counted in ``SinkStats.holes``: the
        exactly-once check by ``message_id`` decides what was lost."""
        keep: list[int] = []
        want: dict[int, int] = {}
        cut: set[int] = set()
        now = time.monotonic()
        for i, (p, o) in enumerate(zip(parts, offs, strict=True)):
            if p in cut:
                continue
            expected = want.get(p, self.position.get(p, 0))  # a fresh partition starts at 0
            if o < expected:  # read again after a seek
                continue
            if o > expected and not self._gap_stands(p, expected, o, now):
                cut.add(p)
                try:
                    self._consumer.seek(TopicPartition(self.topic, p, expected))
                except KafkaException as exc:
                    raise BackendError(f"{self.topic}[{p}]: seek back to offset {expected} "
                                       f"to read a gap again: {exc}") from None
                continue
            self._gaps.pop(p, None)
            want[p] = o + 1
            keep.append(i)
        return keep

    def _gap_stands(self, p: int, expected: int, got: int, now: float) -> bool:
        seen = self._gaps.get(p)
        if seen is None or seen[0] != expected:
            self._gaps[p] = (expected, now)
            return False
        if now - seen[1] < self.gap_grace_s:
            return False
        marks = self._watermarks(p, timeout=2.0)
        if marks is not None and marks[0] > expected:
            low = marks[0]
            self.skipped += low - expected
            raise FellBehind(
                f"{self.topic}[{p}]: {low - expected} message(s) were gone from the broker "
                f"before they were read (expected offset {expected}, the broker's earliest "
                f"is {low}, read {got} next): the sink fell behind its retention "
                "(the embedded mock cluster keeps 5 MiB or 100,000 message sets a "
                "partition); lower the rate, or use brokers with a longer retention",
                p, low - expected)
        self.stats.holes += got - expected
        return True

    def _watermarks(self, partition: int, timeout: float) -> tuple[int, int] | None:
        """The partition's (low, high) watermark offsets on the broker; None if the broker
        cannot say within ``timeout`` seconds."""
        try:
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=timeout, cached=False)
        except KafkaException:
            return None
        return int(low), int(high)

    def commit(self) -> int:
        """Hand the buffered rows, with the position after them, to the decode and commit
        threads (waiting for the oldest commit under way if ``MAX_IN_FLIGHT`` are); the rows
        handed over."""
        if not self._values:
            return 0
        while len(self._inflight) >= MAX_IN_FLIGHT:
            self._settle_one()
        values, stamps, position = self._values, self._ts, dict(self.position)
        self._values, self._ts = [], []
        decoded = self._decoding.submit(self._decode, values)
        future = self._pool.submit(self._write, decoded, len(values), stamps, position,
                                   time.monotonic())
        self._inflight.append((future, len(values), position))
        return len(values)

    def _decode(self, values: list[bytes]) -> pa.Table:
        start = time.perf_counter()
        data = self._decoder.decode(values)
        self.stats.stages_s["decode"] += time.perf_counter() - start
        return data

    def _due_age_s(self) -> float:
        """The age of the oldest buffered row at which a commit is due: the commit interval,
        less how long recent commits took to reach the table (at most half the interval),
        so that rows become visible about ``commit_interval_ms`` after their produce call."""
        return self.commit_interval_s - min(self._lead_s, self.commit_interval_s / 2)

    def _write(self, decoded: Future[pa.Table], rows: int, stamps: list[int],
               position: dict[int, int], handed: float) -> None:
        if self._broken:
            raise BackendError(f"{self.table_name}: an earlier commit failed; the {rows} rows "
                               "after it are not committed")
        try:
            data = decoded.result()
            start = time.perf_counter()
            self.writer.write_arrow(data, self.table_name,
                                    snapshot_properties=encode(self.topic, position))
        except BaseException:
            self._broken = True
            raise
        latency_ms = (time.perf_counter() - start) * 1e3
        self._lead_s = (self._lead_s + time.monotonic() - handed) / 2
        self.stats.stages_s["commit"] += latency_ms / 1e3
        snapshot = self.writer.table(self.table_name).current_snapshot()
        uniq, counts = np.unique(np.asarray(stamps, dtype=np.int64), return_counts=True)
        self.stats.commits.append(CommitInfo(
            int(snapshot.sequence_number or 0) if snapshot is not None else 0, rows,
            latency_ms, time.time(), uniq, counts))
        self.stats.commit_latency.record(latency_ms / 1e3)

    def wait(self) -> None:
        """Wait until every commit under way is in the table."""
        self._settle()

    def _settle(self) -> None:
        """Wait for every commit under way; the first error, if any, is raised here."""
        while self._inflight:
            self._settle_one()

    def _settle_one(self) -> None:
        """Wait for the oldest commit under way; its error, if any, is raised here."""
        future, rows, position = self._inflight.popleft()
        future.result()
        self.stats.committed += rows
        with contextlib.suppress(KafkaException):  # for lag monitors; the table decides
            self._consumer.commit(offsets=[TopicPartition(self.topic, p, o)
                                           for p, o in position.items()], asynchronous=True)

    def sample_lag(self) -> int:
        lag = 0
        for p in self._partitions:
            marks = self._watermarks(p, timeout=1.0)
            if marks is not None:
                lag += max(0, marks[1] - self.position.get(p, 0))
        self._last_lag = time.monotonic()
        self.stats.lag.append((time.time(), lag))
        return lag

    def crash(self) -> int:
        """Stop as a killed consumer would: the commits under way end (each committed with
        its position, or not at all: both consistent), nothing buffered is committed; the rows
        dropped."""
        dropped = len(self._values)
        self._values, self._ts = [], []
        try:
            self._settle()
        finally:
            self._shut()
        return dropped

    def close(self) -> None:
        try:
            self.commit()
            self._settle()
        finally:
            self._shut()

    def _shut(self) -> None:
        self._decoding.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        self._consumer.close()
        self._decoder.close()
