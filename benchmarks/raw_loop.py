"""The ceiling: a raw kafka-python consume→produce loop (``python -m benchmarks.raw_loop IN OUT COUNT``).

Reads every partition of IN (already filled) from the beginning and produces
each record's key and value unchanged to OUT, until COUNT records went through;
prints the wall-clock times (Unix seconds) when the first records arrived and
when the last one produced was acknowledged.
"""

from __future__ import annotations

import sys
import time

from kafka import KafkaConsumer, KafkaProducer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]


def main() -> None:
    bootstrap, source, sink, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    tps = [TopicPartition(source, p) for p in sorted(consumer.partitions_for_topic(source) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    done, first = 0, 0.0
    while done < count:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            first = first or time.time()
            for r in records:
                producer.send(sink, key=r.key, value=r.value)
            done += len(records)
    producer.flush()
    print(f"{first:.6f} {time.time():.6f}", flush=True)
    consumer.close()
    producer.close()


if __name__ == "__main__":
    main()
