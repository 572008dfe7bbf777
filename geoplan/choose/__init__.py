"""Choosing a portfolio of sites: coverage, p-median, set covering, dispersion, side constraints.

Holds ``costs`` (site x demand pairs), ``problem`` (models), ``exact`` (spopt/PuLP), ``heuristic``.
May import io, measure, streets and study (costs, ranked sites, the study); maps and CLI stand above.
"""
