"""Real-peer soak against aiortc (python -m tests.soak); see docs/SOAK.md."""
