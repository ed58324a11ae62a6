"""People's pins (``POST /v1/policy``, ``DELETE /v1/policy/pins/{stratum}``) and the policy in force.

The API never writes ``policies``: the aggregator is its only writer and
numberer (analysis/policy/authority.py). A pin is recorded here and published
on the compacted ``policy-pins`` topic (key: the stratum) in one step: the row
is written and locked, the record sent and acknowledged, then the row
committed; when Kafka does not take the record nothing is recorded
(:class:`NotPublished`). Two replicas pinning one stratum are ordered by the
row lock, so the topic's order is the database's.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.policy.pins import Pin, Release, encode
from services.api.exceptions import NotPinned, NotPublished, PinConflict
from services.db.engine import session_factory
from services.db.models import PolicyPinRow, PolicyRow
from services.tools.kafka import Sink


def pin(*, engine: Engine, sink: Sink, topic: str, event: Pin) -> None:
    """Record and publish ``event`` (replacing the stratum's earlier pin)."""
    with session_factory(engine)() as session, session.begin():
        row = _locked(session, event.stratum) or PolicyPinRow(stratum=event.stratum)
        row.threshold, row.pinned_by = event.record()["threshold"], event.pinned_by
        row.reason, row.time = event.reason, event.time
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise PinConflict(f"a concurrent pin of {event.stratum!r} won; pin again to replace it") from None
        _publish(sink, topic, event)


def release(*, engine: Engine, sink: Sink, topic: str, event: Release) -> Pin:
    """Delete and publish the release of ``event.stratum``'s pin; the pin released. :class:`NotPinned` if none."""
    with session_factory(engine)() as session, session.begin():
        row = _locked(session, event.stratum)
        if row is None:
            raise NotPinned(f"stratum {event.stratum!r} is not pinned")
        released = pin_of(row)
        session.delete(row)
        session.flush()
        _publish(sink, topic, event)
    return released


def pins(engine: Engine) -> list[Pin]:
    """Every pin recorded, by stratum."""
    with session_factory(engine)() as session:
        return [pin_of(r) for r in session.scalars(select(PolicyPinRow).order_by(PolicyPinRow.stratum))]


def in_force(engine: Engine) -> PolicyRow | None:
    """The latest policy the aggregator published (as the database sink recorded it), None before the first."""
    with session_factory(engine)() as session:
        return session.scalars(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1)).first()


def pin_of(row: PolicyPinRow) -> Pin:
    return Pin.from_record({"stratum": row.stratum, "threshold": row.threshold, "pinned_by": row.pinned_by,
                            "reason": row.reason, "time": row.time})


def _locked(session: Session, stratum: str) -> PolicyPinRow | None:
    return session.scalars(select(PolicyPinRow).where(PolicyPinRow.stratum == stratum).with_for_update()).first()


def _publish(sink: Sink, topic: str, event: Pin | Release) -> None:
    try:
        sink.send(topic, event.stratum.encode(), encode(event))
        sink.flush()
    except Exception as exc:  # rolled back with the session: a pin no aggregator saw is not recorded
        raise NotPublished(f"Kafka did not take the pin ({type(exc).__name__}: {exc})") from exc
