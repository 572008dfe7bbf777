"""Batches: many studies (cities) x their scenarios as a graph of Dask tasks, resumable.

Holds ``province`` (batch files, input fingerprints), ``partitions`` (huge candidate grids), ``run``.
May import io, study, scenarios and maps; only the CLI stands above it.
"""
