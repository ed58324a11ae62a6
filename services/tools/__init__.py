"""Tools that feed and drain the pipeline: the frame feeder, simulated annotators and topic snapshots."""
