"""Pipeline steps shared by the streaming agents and the offline replay of snapshots.

Each step takes validated messages and returns messages, so an agent is only
the glue between topics and a step, and recomputing a step offline from a
snapshot of its input topics gives what the agent produced.
"""
