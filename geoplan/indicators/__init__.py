"""Indicators of industry–city integration: jobs within reach, job–housing balance, life circles.

Per-site measures planners quote (cumulative opportunities, 2SFCA, 职住比, GB 50180 life circles).
May import io, measure and streets; the study and the maps stand above it.
"""
