"""Failures on the way back: failure messages, the return packet, attribution data (BOLT 4)."""
