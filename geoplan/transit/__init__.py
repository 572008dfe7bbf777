"""Commuting by metro: line descriptions and GTFS feeds, the walk + metro network, travel times.

Holds ``service`` (the line model), ``lines``, ``gtfs``, ``network``, ``metric`` and ``isochrone``.
May import io, measure and streets; study, maps and the CLI stand above it.
"""
