"""Payments a sender builds: routes and their onions, AMP (lnd) and keysend (bLIP 3)."""
