"""Layer 4, sweeps: the one replication runner (local processes or Dask) that every many-pilot command
shares, experiment sweeps and their resumable results store. Imports config, world and results only."""
