"""The loop's run report: one builder for a streaming run, a replay and a replay of snapshots."""
