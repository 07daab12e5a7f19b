"""Layer 1, configuration: the scenario schema, payment terms, states and errors. Parameters only; imports
nothing else from labsim."""
