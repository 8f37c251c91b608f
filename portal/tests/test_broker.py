"""The demo's filesystem broker (portal/broker.py) under a producer and a consumer at the same
moment: every message arrives whole, none is lost or read half-written. kombu's own transport
writes into the queue folder in place, and a consumer polling it could read an empty file."""

import json
import os
import threading
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from portal import broker

TRANSPORT = broker.Transport


@pytest.fixture
def name():
    # kombu keeps declared exchanges in class-level state: a fresh name per test.
    return f"q{uuid.uuid4().hex[:8]}"


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name), routing_key=name)  # a named exchange, as Celery's


def _connection(folder):
    queue, processed, staging = (folder / name for name in ("queue", "processed", "staging"))
    for path in (queue, processed, staging):
        path.mkdir()
    options = {
        "data_folder_in": str(queue), "data_folder_out": str(queue), "processed_folder": str(processed),
        "control_folder": str(folder), "staging_folder": str(staging), "polling_interval": 0,
    }  # fmt: skip
    return Connection("filesystem://", transport=TRANSPORT, transport_options=options)


def test_a_message_appears_in_the_queue_only_when_complete(tmp_path, name):
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue(_queue(name))
        queue.put({"n": 1})
        assert not list((tmp_path / "staging").iterdir())  # staged, then renamed into the queue
        assert queue.get(timeout=1).payload == {"n": 1}
        queue.close()


def test_a_message_is_written_whole_before_it_enters_the_queue_folder(tmp_path, name, monkeypatch):
    renames = []
    real_replace = os.replace

    def watching_replace(src, dst):
        renames.append((json.loads(Path(src).read_bytes()), Path(dst).exists(), Path(dst).parent.name))
        real_replace(src, dst)

    monkeypatch.setattr(broker.os, "replace", watching_replace)
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue(_queue(name))
        queue.put({"n": 7})
        queue.close()
    ((payload, target_existed, folder),) = renames
    assert payload["body"] and not target_existed and folder == "queue"


def test_concurrent_producers_and_a_polling_consumer_lose_nothing(tmp_path, name):
    received, errors = [], []
    total = 400

    def produce(start: int):
        try:
            with _connection_for(tmp_path) as connection:
                producer = connection.Producer()
                for n in range(start, total, 2):
                    producer.publish({"n": n, "pad": "x" * 2000}, exchange=name, routing_key=name)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    with _connection(tmp_path) as connection:
        consumer = connection.SimpleQueue(_queue(name))
        producers = [threading.Thread(target=produce, args=(i,)) for i in (0, 1)]
        for thread in producers:
            thread.start()
        while len(received) < total:
            try:
                message = consumer.get(timeout=10)
            except consumer.Empty:
                break
            received.append(message.payload["n"])
            message.ack()
        for thread in producers:
            thread.join(30)
        consumer.close()
    assert not errors, errors
    assert sorted(received) == list(range(total))


def _connection_for(folder):
    """Another connection to the same folders (the portal's web process next to the worker)."""
    options = {
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"), "control_folder": str(folder),
        "staging_folder": str(folder / "staging"),
    }  # fmt: skip
    return Connection("filesystem://", transport=TRANSPORT, transport_options=options)
