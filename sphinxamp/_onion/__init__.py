"""Sphinx onion packets: framing, build and peel, the replay log, batch peeling (BOLT 4)."""
