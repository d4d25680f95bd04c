"""The AMP/keysend receiver: the state machine, its invoice rules, decisions and stores."""
