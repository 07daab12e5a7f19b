"""Layer 3, results: what one simulated pilot produced, computed from a plain run record (never a live model),
and the run folder it is saved in. Imports only `labsim.config` (and the world to take its record)."""
