"""Scenarios: what-if overlays on a study, compared with the base run, sharing what is unchanged.

Holds ``overlay`` (Scenario, read and apply, every problem at once), ``reuse`` (RunCache) and ``compare``.
May import io, measure and study; maps, batch and the CLI stand above it.
"""
