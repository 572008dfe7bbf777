"""What is measured for each site: distances, criteria, decays, constraints, candidate grids.

Holds the distance protocol and the straight-line engine, criteria, decays, constraints and grids.
May import :mod:`geoplan.io` (and ``_errors``); the street engine plugs into it from above.
"""
