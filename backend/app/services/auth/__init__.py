"""Sign-in: server-side sessions with rotating refresh tokens, and the per-account throttle."""
