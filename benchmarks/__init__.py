"""labsim benchmarks: `python -m benchmarks` (see benchmarks/README.md)."""

import os


def load() -> str:
    """The machine's load averages (1, 5 and 15 minutes) as text, printed beside each timing."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())
