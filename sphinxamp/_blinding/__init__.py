"""Route blinding: blinded path creation, unblinding a hop, onion messages (BOLT 4)."""
