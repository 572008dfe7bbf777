"""A street network as a networkx graph, for osmnx's functions and independent checks.

:func:`to_networkx` gives the osmnx-style ``MultiDiGraph`` of a
:class:`~geoplan.streets.network.StreetNetwork`: the tests route on it with
networkx to check geoplan's engine, and planners can hand it to osmnx.
"""

from __future__ import annotations

from typing import Any

from geoplan.streets.network import StreetNetwork

__all__ = ["to_networkx"]


def to_networkx(network: StreetNetwork, *, unit: str | None = None) -> Any:
    """Return the network as an osmnx-style ``networkx.MultiDiGraph``.

    Parameters
    ----------
    network
        The street network.
    unit
        Unused placeholder for symmetry; every arc carries ``length``
        (metres), ``minutes`` and ``travel_time`` (seconds).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes keyed by OSM id with ``x``/``y`` in ``network.crs`` and
        ``lon``/``lat``; one edge per arc with ``osmid`` (way), ``edge``
        (segment position), ``length``, ``minutes``, ``travel_time`` and
        ``oneway``; ``graph["crs"]`` set, so osmnx functions accept it.
    """
    import networkx as nx

    del unit
    graph = nx.MultiDiGraph(crs=network.crs)
    ids = network.node_id.tolist()
    graph.add_nodes_from(
        (i, {"x": x, "y": y, "lon": lo, "lat": la})
        for i, x, y, lo, la in zip(
            ids,
            network.x.tolist(),
            network.y.tolist(),
            network.lon.tolist(),
            network.lat.tolist(),
            strict=True,
        )
    )
    oneway = ~(network.edge_forward & network.edge_backward)
    tails = network.node_id[network.arc_tail].tolist()
    heads = network.node_id[network.arc_head].tolist()
    edges = network.arc_edge.tolist()
    minutes = network.arc_minutes.tolist()
    graph.add_edges_from(
        (
            t,
            h,
            {
                "osmid": int(network.edge_way_id[e]),
                "edge": e,
                "length": float(network.edge_length_m[e]),
                "minutes": m,
                "travel_time": m * 60.0,
                "oneway": bool(oneway[e]),
            },
        )
        for t, h, e, m in zip(tails, heads, edges, minutes, strict=True)
    )
    return graph
