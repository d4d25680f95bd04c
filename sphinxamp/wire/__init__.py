"""BOLT 1 and BOLT 2 codecs: BigSize, TLV streams and schemas, the HTLC and onion messages."""
