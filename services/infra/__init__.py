"""Local infrastructure the project provisions itself: the Kafka broker and its topics."""
