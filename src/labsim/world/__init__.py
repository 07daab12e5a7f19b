"""Layer 2, the world: the Mesa model of a labour market with TE offices, employers, providers and a pilot.
Imports only `labsim.config`."""
