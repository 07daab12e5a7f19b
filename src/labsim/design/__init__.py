"""Layer 5, design: how large must the pilot be, and is its answer honest? Simulates a pilot many times
(through the one replication runner in `labsim.sweep.runner`) and reports diagnosands and the minimum
size. Imports config, world, results and sweep only."""
