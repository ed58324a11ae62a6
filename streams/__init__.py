"""The faust-streaming app (topics, agents, tables) that runs the shadow loop on Kafka.

Arrives with the streaming issue; the same ``analysis`` core already runs offline.
"""
