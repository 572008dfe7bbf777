"""Deciding: pairwise judgements, AHP, weights, MCDA aggregation, robustness and sensitivity.

Works on tables of criterion scores, with no geometry: nothing spatial is needed to decide.
Imports nothing of geoplan but ``_errors``.
"""
