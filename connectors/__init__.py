"""Platform connectors: each knows its platform and nothing else."""
