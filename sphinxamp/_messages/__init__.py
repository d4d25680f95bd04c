"""The HTLC and onion messages of BOLT 2 and BOLT 4 (codec) and their JSON form (json)."""
