"""Stage consumers: one per consumer group, bound to its stream and queue in ``apps/bus/topology.py``."""
