"""Data access functions: the only layer that builds queries."""
