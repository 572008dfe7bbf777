"""Sums within several cutoffs of every site along streets, in one pass and without pairs.

``metric.within(sites, targets, cutoff)`` lists every (site, target) pair;
with 100,000 sites and 10,000 job locations within a 45-minute walk that is
25 million pairs, sorted and deduplicated, which costs seconds and gigabytes
only to be summed per site.  Here the same sums come from compiled bounded
searches that add each target's amount straight into per-site totals.

Street networks are mostly *chains*: runs of segments through nodes of
degree 2 (91,700 of Andorra's 96,500 walk nodes) between *junctions* (every
other node).  A site on a chain leaves it by one of its two end junctions, at
a cost fixed by its place on the chain, so the searches run on the junctions
only (a few per cent of the nodes), and every chain whose end a search
settled is then scanned once, site by site along it:

* the cost of site *s* to target *t* is the cheaper of ``dist_t(A) + exit_A(s)``
  and ``dist_t(B) + exit_B(s)`` over the chain's ends ``A`` and ``B``, or the
  direct way along the chain when one of *t*'s stretches lies on *s*'s chain;
* costs along a chain are differences of prefix sums of its segments' costs
  in each direction, and one-way segments are prefix counts of segments that
  forbid each direction;
* sites inside a polygon target are at cost 0 from it, as in
  :class:`~geoplan.streets.routing.NetworkMetric`.

The costs are those of ``NetworkMetric.within`` (the same snapping, target
stretches, off-network legs and one-way rules), summed in another order, so
they agree to rounding (about 1e-12 of a chain's length).
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numba
import numpy as np
import numpy.typing as npt

from geoplan.streets._kernels import compiled
from geoplan.streets.network import StreetNetwork
from geoplan.streets.routing import NetworkMetric

__all__ = ["network_sums"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

F8 = "float64[::1]"
I8 = "int64[::1]"
B1 = "boolean[::1]"


# --------------------------------------------------------------------------- chains


@compiled(I8, I8, "int64", returns=f"Tuple(({I8}, {I8}, {B1}, {I8}, {I8}, {I8}, {I8}))")
def _walk_chains(
    edge_u: IntArray, edge_v: IntArray, n_nodes: int
) -> tuple[IntArray, IntArray, BoolArray, IntArray, IntArray, IntArray, IntArray]:
    """Split the segments into chains between junctions.

    A junction is a node with other than two segment ends (or a segment
    from itself to itself); a ring of degree-2 nodes gets its lowest node as a
    junction.  Returns ``edge_chain, edge_pos, edge_flip`` (each segment's
    chain, place in it, and whether the chain runs ``v -> u`` along it), the
    segments in chain order (chain ``c``'s are ``segments[start[c]:start[c +
    1]]``), ``start`` and each chain's first and last node.
    """
    n_edges = len(edge_u)
    degree = np.zeros(n_nodes, np.int64)
    junction = np.zeros(n_nodes, np.bool_)
    inc_start = np.zeros(n_nodes + 1, np.int64)
    for e in range(n_edges):
        degree[edge_u[e]] += 1
        degree[edge_v[e]] += 1
        inc_start[edge_u[e] + 1] += 1
        inc_start[edge_v[e] + 1] += 1
        if edge_u[e] == edge_v[e]:
            junction[edge_u[e]] = True
    for i in range(n_nodes):
        inc_start[i + 1] += inc_start[i]
        if degree[i] != 2:
            junction[i] = True
    fill = inc_start[:-1].copy()
    incident = np.empty(2 * n_edges, np.int64)
    for e in range(n_edges):
        incident[fill[edge_u[e]]] = e
        fill[edge_u[e]] += 1
        incident[fill[edge_v[e]]] = e
        fill[edge_v[e]] += 1
    edge_chain = np.full(n_edges, -1, np.int64)
    edge_pos = np.zeros(n_edges, np.int64)
    edge_flip = np.zeros(n_edges, np.bool_)
    segments = np.empty(n_edges, np.int64)
    start = np.empty(n_edges + 1, np.int64)
    first = np.empty(n_edges, np.int64)
    last = np.empty(n_edges, np.int64)
    n_chains = 0
    k = 0
    for ring in range(2):  # junctions first, then rings of degree-2 nodes
        for node in range(n_nodes):
            if ring == 0 and not junction[node]:
                continue
            if ring == 1:
                if junction[node] or edge_chain[incident[inc_start[node]]] >= 0:
                    continue
                junction[node] = True
            for q in range(inc_start[node], inc_start[node + 1]):
                e = incident[q]
                if edge_chain[e] >= 0:
                    continue
                start[n_chains] = k
                first[n_chains] = node
                here = node
                pos = 0
                while True:
                    flip = edge_u[e] != here
                    edge_chain[e] = n_chains
                    edge_pos[e] = pos
                    edge_flip[e] = flip
                    segments[k] = e
                    k += 1
                    pos += 1
                    there = edge_u[e] if flip else edge_v[e]
                    if junction[there]:
                        break
                    a = incident[inc_start[there]]
                    e = incident[inc_start[there] + 1] if a == e else a
                    here = there
                last[n_chains] = there
                n_chains += 1
    start[n_chains] = k
    return (
        edge_chain, edge_pos, edge_flip, segments[:k], start[: n_chains + 1],
        first[:n_chains], last[:n_chains],
    )  # fmt: skip


@compiled(I8, F8, B1, returns=f"Tuple(({F8}, {I8}))")
def _prefix(start: IntArray, weight: FloatArray, allowed: BoolArray) -> tuple[FloatArray, IntArray]:
    """Per-chain prefix sums of segment costs and of segments that forbid the
    direction; chain ``c``'s ``m + 1`` entries start at ``start[c] + c``."""
    n_chains = len(start) - 1
    cost = np.empty(len(weight) + n_chains)
    blocked = np.empty(len(weight) + n_chains, np.int64)
    for c in range(n_chains):
        out = start[c] + c
        cost[out] = 0.0
        blocked[out] = 0
        for s in range(start[c], start[c + 1]):
            out += 1
            cost[out] = cost[out - 1] + weight[s]
            blocked[out] = blocked[out - 1] + (0 if allowed[s] else 1)
    return cost, blocked


@dataclass(frozen=True)
class _Chains:
    """The chains of a network and their costs in one unit (see the module docstring)."""

    edge_chain: IntArray
    edge_pos: IntArray
    edge_flip: BoolArray
    start: IntArray  # chain c's segments: start[c]:start[c + 1]; its prefixes from start[c] + c
    first: IntArray  # junction number of each chain's first and last node
    last: IntArray
    forward: FloatArray  # segment costs in chain order, first -> last, and back
    backward: FloatArray
    cum_forward: FloatArray
    cum_backward: FloatArray
    blocked_forward: IntArray
    blocked_backward: IntArray
    graph: tuple[IntArray, IntArray, FloatArray]  # junctions, reversed: indptr, head, cost
    incident: tuple[IntArray, IntArray]  # chains at each junction: indptr, chain
    n_junctions: int

    @property
    def n_chains(self) -> int:
        return len(self.start) - 1

    def total(self, cum: FloatArray) -> FloatArray:
        """Each chain's whole cost in the direction of ``cum``."""
        return np.asarray(cum[self.start[1:] + np.arange(self.n_chains)])


_CHAINS: weakref.WeakKeyDictionary[StreetNetwork, dict[str, _Chains]] = weakref.WeakKeyDictionary()


def _csr(rows: IntArray, n_rows: int, *columns: npt.NDArray[np.generic]) -> tuple[IntArray, ...]:
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return (indptr, *(np.ascontiguousarray(c[order]) for c in columns))


def chains_of(metric: NetworkMetric) -> _Chains:
    """The chains of the metric's network in its unit (cached per network and unit)."""
    net = metric.network
    per_unit = _CHAINS.setdefault(net, {})
    if metric.unit in per_unit:
        return per_unit[metric.unit]
    edge_chain, edge_pos, edge_flip, segments, start, first, last = _walk_chains(
        net.edge_u, net.edge_v, net.n_nodes
    )
    flip = edge_flip[segments]
    weight, weight_back = net.edge_weight(metric.unit), net.edge_weight(metric.unit, backward=True)
    forward = np.where(flip, weight_back[segments], weight[segments])
    backward = np.where(flip, weight[segments], weight_back[segments])
    ok_forward = np.where(flip, net.edge_backward[segments], net.edge_forward[segments])
    ok_backward = np.where(flip, net.edge_forward[segments], net.edge_backward[segments])
    cum_forward, blocked_forward = _prefix(start, forward, ok_forward)
    cum_backward, blocked_backward = _prefix(start, backward, ok_backward)
    ends = np.union1d(first, last)
    number = np.full(net.n_nodes, -1, np.int64)
    number[ends] = np.arange(len(ends))
    a, b = number[first], number[last]
    tip = start[1:] + np.arange(len(first))  # each chain's last prefix entry
    open_f = (blocked_forward[tip] == 0) & (a != b)
    open_b = (blocked_backward[tip] == 0) & (a != b)
    # reversed graph: searching from a to b costs the real way b -> a, backward along the chain
    rows = np.concatenate([a[open_b], b[open_f]])
    graph = _csr(
        rows, len(ends), np.concatenate([b[open_b], a[open_f]]),
        np.concatenate([cum_backward[tip][open_b], cum_forward[tip][open_f]]),
    )  # fmt: skip
    loop = a == b
    chain_ids = np.arange(len(first))
    incident = _csr(
        np.concatenate([a, b[~loop]]), len(ends), np.concatenate([chain_ids, chain_ids[~loop]])
    )
    chains = _Chains(
        edge_chain, edge_pos, edge_flip, start, a, b, forward, backward, cum_forward,
        cum_backward, blocked_forward, blocked_backward,
        (graph[0], graph[1], graph[2].astype(np.float64)), (incident[0], incident[1]), len(ends),
    )  # fmt: skip
    per_unit[metric.unit] = chains
    return chains


def _chain_place(
    chains: _Chains, edge: IntArray, fraction: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Chain, segment index in it and fraction along it (chain direction) of points
    on segments; a point at a segment's far end is at the start of the next."""
    chain = chains.edge_chain[edge]
    index = chains.edge_pos[edge].copy()
    t = np.where(chains.edge_flip[edge], 1.0 - fraction, fraction)
    end = t >= 1.0
    index[end] += 1
    t[end] = 0.0
    return chain, index, t


def _along(
    chains: _Chains, cum: FloatArray, weight: FloatArray, chain: IntArray, index: IntArray,
    t: FloatArray,
) -> FloatArray:  # fmt: skip
    """Cost from a chain's first node to a place on it, by the prefix ``cum``."""
    seg = np.minimum(chains.start[chain] + index, len(weight) - 1)
    return np.asarray(
        cum[chains.start[chain] + chain + index] + np.where(t > 0, t * weight[seg], 0.0)
    )


# --------------------------------------------------------------------------- kernel


@numba.njit(inline="always")
def _heap_up(key: FloatArray, item: IntArray, where: IntArray, i: int) -> None:
    k, n = key[i], item[i]
    while i > 0:
        parent = (i - 1) >> 1
        if key[parent] <= k:
            break
        key[i], item[i] = key[parent], item[parent]
        where[item[i]] = i
        i = parent
    key[i], item[i] = k, n
    where[n] = i


@numba.njit(inline="always")
def _heap_down(key: FloatArray, item: IntArray, where: IntArray, size: int) -> None:
    k, n = key[0], item[0]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and key[child + 1] < key[child]:
            child += 1
        if key[child] >= k:
            break
        key[i], item[i] = key[child], item[child]
        where[item[i]] = i
        i = child
    key[i], item[i] = k, n
    where[n] = i


@numba.njit(inline="always")
def _direct(
    p: float, p_i: int, p_t: float, lo: float, lo_i: int, lo_t: float, hi: float, hi_i: int,
    hi_t: float, off: int, seg: int, cum_f: FloatArray, cum_b: FloatArray, blk_f: IntArray,
    blk_b: IntArray, w_f: FloatArray, w_b: FloatArray,
) -> float:  # fmt: skip
    """Cost along one chain from place ``p`` to the stretch ``[lo, hi]`` of it."""
    if p < lo:
        if blk_f[off + lo_i + (1 if lo_t > 0 else 0)] - blk_f[off + p_i] > 0:
            return np.inf
        to = cum_f[off + lo_i] + (lo_t * w_f[seg + lo_i] if lo_t > 0 else 0.0)
        at = cum_f[off + p_i] + (p_t * w_f[seg + p_i] if p_t > 0 else 0.0)
        return float(max(to - at, 0.0))
    if p > hi:
        if blk_b[off + p_i + (1 if p_t > 0 else 0)] - blk_b[off + hi_i] > 0:
            return np.inf
        at = cum_b[off + p_i] + (p_t * w_b[seg + p_i] if p_t > 0 else 0.0)
        to = cum_b[off + hi_i] + (hi_t * w_b[seg + hi_i] if hi_t > 0 else 0.0)
        return float(max(at - to, 0.0))
    return 0.0


@compiled(
    I8, I8, F8, I8, I8, I8, I8, I8,  # graph, incidence, chain ends, chain starts
    F8, F8, F8, F8, I8, I8,  # chain costs
    I8, F8, I8, F8, F8, F8, F8,  # sites by chain: start, place, exits, off-network leg
    I8, I8, F8, I8, F8, F8, I8, F8, F8, F8, F8,  # stretches by target
    I8, I8,  # sites inside targets
    F8, F8, "int64", "int64", "int64",
    returns="float64[:, ::1]",
)  # fmt: skip
def _sums(
    g_indptr: IntArray, g_head: IntArray, g_cost: FloatArray, inc_indptr: IntArray,
    inc_chain: IntArray, first: IntArray, last: IntArray, start: IntArray,
    cum_f: FloatArray, cum_b: FloatArray, w_f: FloatArray, w_b: FloatArray, blk_f: IntArray,
    blk_b: IntArray,
    site_start: IntArray, s_pos: FloatArray, s_i: IntArray, s_t: FloatArray, exit_a: FloatArray,
    exit_b: FloatArray, s_access: FloatArray,
    t_start: IntArray, r_chain: IntArray, r_lo: FloatArray, r_lo_i: IntArray, r_lo_t: FloatArray,
    r_hi: FloatArray, r_hi_i: IntArray, r_hi_t: FloatArray, r_cost: FloatArray,
    r_init_a: FloatArray, r_init_b: FloatArray,
    in_start: IntArray, in_site: IntArray,
    amount: FloatArray, cutoffs: FloatArray, n_sites: int, block: int, n_blocks: int,
) -> FloatArray:  # fmt: skip
    """Per site (in chain order) and cutoff band, the amounts of the targets
    ``block, block + n_blocks, ...`` whose cost falls in the band
    (``cutoffs[k - 1] < cost <= cutoffs[k]``).  Blocks run in threads (the
    kernel releases the GIL); compiled without ``parallel`` it compiles in a
    fraction of the time."""
    n_junctions = len(g_indptr) - 1
    n_chains = len(start) - 1
    n_targets = len(t_start) - 1
    n_cut = len(cutoffs)
    cutoff = cutoffs[n_cut - 1]
    out = np.zeros((n_sites, n_cut))
    dist = np.full(n_junctions, np.inf)
    where = np.full(n_junctions, -1, np.int64)  # heap slot; -2 once settled
    key = np.empty(n_junctions)
    item = np.empty(n_junctions, np.int64)
    touched = np.empty(n_junctions, np.int64)
    stamp = np.full(n_chains, -1, np.int64)
    todo = np.empty(n_chains, np.int64)
    inside = np.full(n_sites, -1, np.int64)
    for j in range(block, n_targets, n_blocks):  # interleaved: blocks of similar work
        a_j = amount[j]
        if a_j == 0.0 or (t_start[j] == t_start[j + 1] and in_start[j] == in_start[j + 1]):
            continue  # nothing to add, or the target cannot be reached (nor is any site in it)
        n_touched = 0
        n_todo = 0
        size = 0
        for r in range(t_start[j], t_start[j + 1]):
            c = r_chain[r]
            if stamp[c] != j:
                stamp[c] = j
                todo[n_todo] = c
                n_todo += 1
            for x, d in ((first[c], r_init_a[r]), (last[c], r_init_b[r])):
                if d <= cutoff and d < dist[x]:
                    if where[x] == -1:
                        touched[n_touched] = x
                        n_touched += 1
                        key[size], item[size] = d, x
                        size += 1
                        dist[x] = d
                        _heap_up(key, item, where, size - 1)
                    else:
                        dist[x] = d
                        key[where[x]] = d
                        _heap_up(key, item, where, where[x])
        n_own = n_todo  # the chains with a stretch of the target come first
        while size > 0:
            d, u = key[0], item[0]
            where[u] = -2
            size -= 1
            if size > 0:
                key[0], item[0] = key[size], item[size]
                _heap_down(key, item, where, size)
            for q in range(inc_indptr[u], inc_indptr[u + 1]):
                c = inc_chain[q]
                if stamp[c] != j:
                    stamp[c] = j
                    todo[n_todo] = c
                    n_todo += 1
            for q in range(g_indptr[u], g_indptr[u + 1]):
                v = g_head[q]
                nd = d + g_cost[q]
                if nd <= cutoff and nd < dist[v] and where[v] != -2:
                    dist[v] = nd
                    if where[v] == -1:
                        touched[n_touched] = v
                        n_touched += 1
                        key[size], item[size] = nd, v
                        size += 1
                        _heap_up(key, item, where, size - 1)
                    else:
                        key[where[v]] = nd
                        _heap_up(key, item, where, where[v])
        for q in range(in_start[j], in_start[j + 1]):  # sites inside the target: cost 0
            s = in_site[q]
            if inside[s] != j:
                inside[s] = j
                out[s, 0] += a_j
        any_inside = in_start[j] < in_start[j + 1]
        for q in range(n_todo):
            c = todo[q]
            d_a, d_b = dist[first[c]], dist[last[c]]
            off, seg = start[c] + c, start[c]
            for s in range(site_start[c], site_start[c + 1]):
                if any_inside and inside[s] == j:
                    continue
                cost = min(d_a + exit_a[s], d_b + exit_b[s])
                for r in range(t_start[j], t_start[j + 1] if q < n_own else t_start[j]):
                    if r_chain[r] == c:
                        along = _direct(
                            s_pos[s], s_i[s], s_t[s], r_lo[r], r_lo_i[r], r_lo_t[r],
                            r_hi[r], r_hi_i[r], r_hi_t[r], off, seg, cum_f, cum_b, blk_f,
                            blk_b, w_f, w_b,
                        )  # fmt: skip
                        cost = min(cost, along + r_cost[r] + s_access[s])
                if cost <= cutoff:
                    k = 0
                    while cost > cutoffs[k]:
                        k += 1
                    out[s, k] += a_j
        for q in range(n_touched):
            dist[touched[q]] = np.inf
            where[touched[q]] = -1
    return out


# --------------------------------------------------------------------------- driver


def _blocked(blocked: IntArray, upto: IntArray, since: IntArray) -> BoolArray:
    return np.asarray(blocked[upto] - blocked[since] > 0)


def network_sums(
    metric: NetworkMetric,
    sites: gpd.GeoSeries,
    targets: gpd.GeoSeries,
    amounts: FloatArray,
    cutoffs: FloatArray,
) -> FloatArray:
    """Sum of the targets' amounts within each cutoff of every site, along streets.

    Uses the metric's own snapping of the sites, reach of the targets and
    sites-inside-polygons test (its private helpers: this module is the
    metric's summing twin and moves with it).

    Parameters
    ----------
    metric
        The network metric (its unit is the cutoffs' unit).
    sites
        Site points.
    targets
        Points, lines or polygons, reached as ``metric.within`` reaches them.
    amounts
        One amount per target (finite, ``>= 0``).
    cutoffs
        Increasing cutoffs.

    Returns
    -------
    numpy.ndarray
        ``(n_sites, n_cutoffs)``: column ``k`` sums the amounts of the targets
        at most ``cutoffs[k]`` from the site (``metric.within`` with that cutoff,
        summed per site).
    """
    n_sites, n_cut = len(sites), len(cutoffs)
    if n_sites == 0 or len(targets) == 0:
        return np.zeros((n_sites, n_cut))
    chains = chains_of(metric)
    s = metric._sites(sites)
    found = metric._targets(metric._geoms(targets))
    reach = found.reach
    tip = chains.start[:-1] + np.arange(chains.n_chains)  # each chain's first prefix entry
    length = np.diff(chains.start)  # its segments: its last prefix entry is tip + length

    # sites: place on their chain, cost of leaving by either end
    on = np.flatnonzero(s.ok)
    chain, index, t = _chain_place(chains, s.edge[on], s.fraction[on])
    off = tip[chain]
    inside = off + index + (t > 0)
    exit_a = _along(chains, chains.cum_backward, chains.backward, chain, index, t) + s.access[on]
    exit_a[_blocked(chains.blocked_backward, inside, off)] = np.inf
    to_end = chains.total(chains.cum_forward)[chain] - _along(
        chains, chains.cum_forward, chains.forward, chain, index, t
    )
    exit_b = np.maximum(to_end, 0.0) + s.access[on]
    exit_b[_blocked(chains.blocked_forward, off + length[chain], off + index)] = np.inf
    order = np.lexsort((index + t, chain))
    placed = on[order]  # sites in chain order; the others after them
    sorted_sites = np.concatenate([placed, np.flatnonzero(~s.ok)])
    rank = np.empty(n_sites, np.int64)
    rank[sorted_sites] = np.arange(n_sites)
    site_start = np.zeros(chains.n_chains + 1, np.int64)
    np.cumsum(np.bincount(chain, minlength=chains.n_chains), out=site_start[1:])
    chain, index, t = chain[order], index[order], t[order]
    exit_a, exit_b = exit_a[order], exit_b[order]

    # stretches: place on their chain, cost from either end
    flip = chains.edge_flip[reach.edge]
    r_chain, lo_i, lo_t = _chain_place(chains, reach.edge, np.where(flip, reach.end, reach.start))
    _, hi_i, hi_t = _chain_place(chains, reach.edge, np.where(flip, reach.start, reach.end))
    r_off = tip[r_chain]
    init_a = _along(chains, chains.cum_forward, chains.forward, r_chain, lo_i, lo_t) + reach.cost
    init_a[_blocked(chains.blocked_forward, r_off + lo_i + (lo_t > 0), r_off)] = np.inf
    from_end = chains.total(chains.cum_backward)[r_chain] - _along(
        chains, chains.cum_backward, chains.backward, r_chain, hi_i, hi_t
    )
    init_b = np.maximum(from_end, 0.0) + reach.cost
    init_b[_blocked(chains.blocked_backward, r_off + length[r_chain], r_off + hi_i)] = np.inf
    t_start, *stretch = _csr(
        reach.target, len(targets), r_chain, lo_i + lo_t, lo_i, lo_t, hi_i + hi_t, hi_i, hi_t,
        reach.cost, init_a, init_b,
    )  # fmt: skip
    in_site, in_target, _ = metric._inside(s, found)
    in_start, in_rank = _csr(in_target, len(targets), rank[in_site])

    graph, incident = chains.graph, chains.incident
    args: tuple[Any, ...] = (
        *graph, *incident, chains.first, chains.last, chains.start,
        chains.cum_forward, chains.cum_backward, chains.forward, chains.backward,
        chains.blocked_forward, chains.blocked_backward,
        site_start, index + t, index, t, exit_a, exit_b, s.access[placed],
        t_start, *stretch, in_start, in_rank,
        amounts, cutoffs, n_sites,
    )  # fmt: skip
    kernel: Any = _sums
    n_blocks = numba.get_num_threads()  # the cores numba may use (NUMBA_NUM_THREADS)
    with ThreadPoolExecutor(n_blocks) as pool:
        parts = list(pool.map(lambda b: kernel(*args, b, n_blocks), range(n_blocks)))
    bands: FloatArray = np.sum(parts, axis=0)
    out = np.empty((n_sites, n_cut))
    out[sorted_sites] = np.cumsum(bands, axis=1)
    return out
