"""BOLT 4 primitives: ECDH behind a node key, key derivation, ChaCha20, AEAD, HMAC."""
