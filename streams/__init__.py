"""The faust-streaming app that runs the shadow loop on Kafka (docs/streaming.md).

Agents are thin adapters: they decode messages, call a step of
``services/loop`` (which calls ``analysis/``), encode and send the result,
and hand anything that fails to the error policy of ``streams/errors.py``.
"""
