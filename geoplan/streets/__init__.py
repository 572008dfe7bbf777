"""Street networks: OpenStreetMap reading, the routable network, snapping, routing, isochrones.

Holds the network engine and its compiled kernels; ``routing.NetworkMetric`` is a distance metric.
May import :mod:`geoplan.io` and :mod:`geoplan.measure` (the distance protocol it implements).
"""
