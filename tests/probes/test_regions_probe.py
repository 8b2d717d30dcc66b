"""Exact region probes (claim E) against independent oracles.

Oracles: autograd Jacobians and forward passes for the local affine map; dense grids of
activation patterns for 1-D and 2-D region counts; closed-form breakpoints of one-hidden-layer
nets on a line; the line-arrangement count 1 + lines + crossings for one hidden layer in 2-D;
shapely for polygon tiling. Tolerances are stated beside each assertion.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from theorylab.errors import TheorylabError
from theorylab.models.builders import init_params, mlp
from theorylab.probes.regions import (
    Residual,
    UnsupportedLayerError,
    activation_pattern,
    affine_program,
    decision_boundary_segments,
    local_affine_map,
    local_complexity,
    partition_2d,
    patterns_on_grid,
    plot_partition,
    regions_on_segment,
    regions_on_segments,
)

ATOL_MAP = 1e-10  # float64 affine map vs the network's own forward pass


def _forward(net: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(x, dtype=torch.float64)).numpy()


def _conv_res_net(seed: int, leaky: float = 0.1) -> nn.Sequential:
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(
        nn.Unflatten(1, (1, 6, 6)),
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.LeakyReLU(leaky),
        Residual(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 1))),
        nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        Residual(nn.Sequential(nn.Linear(27, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 5)), nn.Linear(27, 5)),
        nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3),
    ).double()
    init_params(net, seed, "he", bias_std=0.2)
    with torch.no_grad():
        for bn in (net[2], net[9]):
            bn.running_mean.copy_(torch.randn(bn.num_features, generator=g, dtype=torch.float64))
            bn.running_var.copy_(torch.rand(bn.num_features, generator=g, dtype=torch.float64) + 0.5)
            bn.weight.copy_(torch.randn(bn.num_features, generator=g, dtype=torch.float64))
            bn.bias.copy_(torch.randn(bn.num_features, generator=g, dtype=torch.float64))
    return net.eval()


# ---------------------------------------------------------------------------------- affine maps
def test_local_affine_map_matches_forward_and_autograd_on_conv_bn_residual_net():
    net = _conv_res_net(0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal(36)
        A, b = local_affine_map(net, x)
        assert A.shape == (3, 36) and b.shape == (3,)
        np.testing.assert_allclose(A @ x + b, _forward(net, x[None])[0], atol=ATOL_MAP, rtol=0)
        # independent oracle for A: the autograd Jacobian at x
        J = torch.autograd.functional.jacobian(lambda z: net(z[None])[0], torch.tensor(x))
        np.testing.assert_allclose(A, J.numpy(), atol=1e-10, rtol=0)


def test_affine_map_is_constant_on_the_region():
    net = mlp(4, [12, 12], 2, seed=3, bias_std=0.5, dtype=torch.float64)
    x = np.array([0.3, -0.2, 0.5, 0.1])
    A, b = local_affine_map(net, x)
    pat = activation_pattern(net, x)
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(200):
        y = x + 1e-3 * rng.standard_normal(4)
        if (activation_pattern(net, y) == pat).all():
            hits += 1
            np.testing.assert_allclose(A @ y + b, _forward(net, y[None])[0], atol=ATOL_MAP, rtol=0)
    assert hits > 50


def test_pattern_matches_forward_hooks():
    net = mlp(5, [7, 6], 3, seed=2, bias_std=0.3, dtype=torch.float64)
    x = np.random.default_rng(2).standard_normal(5)
    h1 = net[0](torch.tensor(x)[None])
    h2 = net[2](torch.relu(h1))
    ref = torch.cat([h1[0] > 0, h2[0] > 0]).numpy()
    np.testing.assert_array_equal(activation_pattern(net, x), ref)
    prog = affine_program(net, (5,))
    assert prog.layer_sizes == (7, 6) and prog.n_neurons == 13 and prog.layer_names == ("1", "3")


@pytest.mark.parametrize(
    ("layer", "name"),
    [(nn.Tanh(), "Tanh"), (nn.MaxPool1d(2), "MaxPool1d"), (nn.GELU(), "GELU")],
)
def test_unsupported_layer_names_the_layer(layer, name):
    net = nn.Sequential(nn.Linear(4, 4), layer, nn.Linear(4 if name != "MaxPool1d" else 2, 2))
    with pytest.raises(UnsupportedLayerError, match=rf"layer '1' \({name}\)"):
        local_affine_map(net, np.zeros(4))


def test_custom_module_and_training_batchnorm_are_rejected():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(UnsupportedLayerError, match=r"layer '0' \(Custom\)"):
        affine_program(nn.Sequential(Custom(), nn.Linear(2, 2)), (2,))
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU())
    with pytest.raises(UnsupportedLayerError, match="training mode"):
        affine_program(net, (2,))
    with pytest.raises(TheorylabError, match="does not accept inputs"):
        affine_program(nn.Sequential(nn.Linear(3, 2)), (5,))
    with pytest.raises(TheorylabError, match="NaN"):
        local_affine_map(nn.Sequential(nn.Linear(2, 2)), np.array([np.nan, 0.0]))


# ---------------------------------------------------------------------------------- segments
def test_segment_breakpoints_closed_form_one_hidden_layer():
    # f(x) = Σ relu(w_i x + b_i) on the real line: breaks at −b_i/w_i, exactly
    net = nn.Sequential(nn.Linear(1, 6), nn.ReLU(), nn.Linear(6, 1)).double()
    w = torch.tensor([[1.0], [-2.0], [0.5], [3.0], [-1.0], [1.5]], dtype=torch.float64)
    b = torch.tensor([0.5, 1.0, -0.25, -2.0, 5.0, 0.0], dtype=torch.float64)
    with torch.no_grad():
        net[0].weight.copy_(w)
        net[0].bias.copy_(b)
    x0, x1 = np.array([-2.0]), np.array([2.0])
    r = regions_on_segment(net, x0, x1)
    kinks = np.unique(-(b / w[:, 0]).numpy())  # two neurons share the kink 0.5: one break
    inside = kinks[(kinks > -2) & (kinks < 2)]
    np.testing.assert_allclose(x0[0] + r.breaks * 4.0, inside, atol=1e-12)
    assert r.count == len(inside) + 1
    assert r.length == pytest.approx(4.0)


def _grid_check_segment(net, x0, x1, n_grid=20001):
    r = regions_on_segment(net, x0, x1)
    t = np.linspace(0, 1, n_grid)
    P = patterns_on_grid(net, x0[None] + t[:, None] * (x1 - x0)[None])
    # every grid point (away from a break by > 1e-9) has the pattern of the piece holding it
    piece = r.piece_of(t)
    far = np.ones(n_grid, bool)
    if r.count > 1:
        far = np.abs(t[:, None] - r.breaks[None]).min(axis=1) > 1e-9
    np.testing.assert_array_equal(P[far], r.patterns[piece[far]])
    # adjacent pieces differ; grid count equals exact count when no piece is shorter than 2 cells
    assert all((r.patterns[i] != r.patterns[i + 1]).any() for i in range(r.count - 1))
    grid_count = int((P[1:] != P[:-1]).any(axis=1).sum()) + 1
    assert grid_count <= r.count
    if np.diff(r.edges).min() > 2.0 / (n_grid - 1):
        assert grid_count == r.count
    return r


def test_segment_walk_vs_dense_grid_mlp_and_conv():
    rng = np.random.default_rng(5)
    net = mlp(6, [10, 10, 10], 3, seed=4, bias_std=0.3, dtype=torch.float64)
    r = _grid_check_segment(net, rng.standard_normal(6), rng.standard_normal(6))
    assert r.count > 5
    cnet = _conv_res_net(1)
    r = _grid_check_segment(cnet, rng.standard_normal(36), rng.standard_normal(36))
    assert r.count > 3


def test_batched_walk_equals_single_walks():
    net = mlp(5, [8, 8], 2, seed=6, bias_std=0.2, dtype=torch.float64)
    rng = np.random.default_rng(6)
    X0, X1 = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    batch = regions_on_segments(net, X0, X1)
    for k in range(4):
        single = regions_on_segment(net, X0[k], X1[k])
        np.testing.assert_allclose(batch[k].breaks, single.breaks, atol=1e-12)
        np.testing.assert_array_equal(batch[k].patterns, single.patterns)


def test_regions_per_neuron_near_half_in_high_dimension():
    # A3 of the reference: He init, bias std 1e-3, random Gaussian segments in d = 784 meet
    # ≈ θ/π ≈ 0.5 regions per neuron; tolerance ±0.15 for 6 segments, one net
    net = mlp(784, [32, 32, 32], 10, seed=0, bias_std=1e-3)
    rng = np.random.default_rng(0)
    X0, X1 = rng.standard_normal((6, 784)), rng.standard_normal((6, 784))
    counts = [r.count for r in regions_on_segments(net, X0, X1, keep_patterns=False)]
    assert 0.35 <= np.mean(counts) / 96 <= 0.65


# ---------------------------------------------------------------------------------- 2-D slices
def _check_partition(net, origin, u, v, bounds, n_grid=301):
    part = partition_2d(net, origin, u, v, bounds)
    s0, s1, t0, t1 = bounds
    box = (s1 - s0) * (t1 - t0)
    areas = part.areas()
    assert (areas > 0).all()  # counter-clockwise, non-degenerate
    assert areas.sum() == pytest.approx(box, rel=1e-9)
    polys = [shapely.Polygon(V) for V in part.polygons]
    assert all(p.is_valid for p in polys)
    # snap rounding at 1e-12: GEOS's floating overlay misreads neighbours whose shared vertex
    # differs in the last bit (seen with GEOS 3.13) as overlapping
    union = shapely.union_all(polys, grid_size=1e-12)
    assert union.area == pytest.approx(box, rel=1e-9)  # no gaps ...
    assert abs(sum(p.area for p in polys) - union.area) <= 1e-9 * box  # ... and no overlaps
    assert len({p.tobytes() for p in part.patterns}) == part.count  # a pattern is one convex region
    # each polygon's affine map matches the network at random interior points
    rng = np.random.default_rng(0)
    pts, idx = [], []
    for i, V in enumerate(part.polygons):
        w = rng.dirichlet(np.ones(len(V)), size=3)
        pts.append(w @ V)
        idx += [i] * 3
    pts = np.concatenate(pts)
    idx = np.asarray(idx)
    X = part.to_input(pts)
    out = _forward(net, X.reshape(len(X), *np.asarray(origin).shape))
    pred = part.out_offset[idx] + np.einsum("nok,nk->no", part.out_linear[idx], pts)
    np.testing.assert_allclose(pred, out, atol=1e-9, rtol=0)
    np.testing.assert_array_equal(patterns_on_grid(net, X.reshape(len(X), *np.asarray(origin).shape)),
                                  part.patterns[idx])
    # dense grid oracle: the grid pattern is the located polygon's pattern; distinct grid
    # patterns are the polygons the grid hits
    ss, tt = np.meshgrid(np.linspace(s0, s1, n_grid), np.linspace(t0, t1, n_grid))
    st_ = np.stack([ss.ravel(), tt.ravel()], 1)
    Pg = patterns_on_grid(net, part.to_input(st_).reshape(len(st_), *np.asarray(origin).shape))
    loc = part.locate(st_)
    assert (loc >= 0).all()
    # grid points on a polygon edge may be located in either neighbour: compare strict interiors
    agree = (Pg == part.patterns[loc]).all(axis=1)
    assert agree.mean() > 0.995
    hit = np.unique(loc[agree])
    assert len({p.tobytes() for p in Pg}) <= part.count
    assert len({p.tobytes() for p in Pg[agree]}) == len(hit)
    # every polygon large enough to hold a grid cell's inscribed disc is seen by the grid
    cell = max((s1 - s0), (t1 - t0)) / (n_grid - 1)
    big = [i for i, p in enumerate(polys) if p.buffer(-cell).area > 0]
    assert set(big) <= set(hit.tolist())
    return part


def test_partition_one_hidden_layer_matches_line_arrangement_count():
    # one hidden layer, 2-D input: regions = 1 + (lines crossing the box) + (crossings inside)
    rng = np.random.default_rng(11)
    n = 9
    W, b = rng.standard_normal((n, 2)), 0.5 * rng.standard_normal(n)
    net = nn.Sequential(nn.Linear(2, n), nn.ReLU(), nn.Linear(n, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(W))
        net[0].bias.copy_(torch.tensor(b))
    box = shapely.box(-1, -1, 1, 1)
    lines = []
    for i in range(n):
        d = np.array([-W[i, 1], W[i, 0]])
        p0 = -b[i] * W[i] / (W[i] @ W[i])
        seg = shapely.LineString([p0 - 10 * d, p0 + 10 * d]).intersection(box)
        if seg.length > 0:
            lines.append(i)
    crossings = 0
    for a in range(n):
        for c in range(a + 1, n):
            z = np.linalg.solve(W[[a, c]], -b[[a, c]])
            crossings += int(np.all(np.abs(z) < 1))
    part = _check_partition(net, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), (-1, 1, -1, 1))
    assert part.count == 1 + len(lines) + crossings


def test_partition_deep_mlp_and_conv_vs_grid_oracle():
    net = mlp(3, [8, 8, 8], 2, seed=1, bias_std=0.3, dtype=torch.float64)
    rng = np.random.default_rng(1)
    part = _check_partition(net, rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3),
                            (-1.5, 1.0, -1.0, 2.0))
    assert part.count > 20 and part.counts_per_layer[-1] == part.count
    cnet = _conv_res_net(2)
    part = _check_partition(cnet, rng.standard_normal(36), rng.standard_normal(36), rng.standard_normal(36),
                            (-0.4, 0.4, -0.4, 0.4), n_grid=201)
    assert part.count > 10


def test_decision_boundary_segments_lie_on_ties():
    net = mlp(2, [16, 16], 3, seed=7, bias_std=0.5, dtype=torch.float64)
    part = partition_2d(net, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), (-2, 2, -2, 2))
    segs = decision_boundary_segments(part)
    assert len(segs) > 3
    for w in (0.0, 0.5, 1.0):
        pts = (1 - w) * segs[:, 0] + w * segs[:, 1]
        out = np.sort(_forward(net, pts), axis=1)
        np.testing.assert_allclose(out[:, -1], out[:, -2], atol=1e-8)  # the top two logits tie
    # a dense grid check: every change of argmax between grid neighbours lies near a segment
    g = np.linspace(-2, 2, 161)
    ss, tt = np.meshgrid(g, g)
    cls = _forward(net, np.stack([ss.ravel(), tt.ravel()], 1)).argmax(1).reshape(ss.shape)
    change = np.argwhere(cls[:, 1:] != cls[:, :-1])
    lines = shapely.MultiLineString([s for s in segs])
    step = g[1] - g[0]
    for r, c in change[:: max(1, len(change) // 40)]:
        p = shapely.Point(g[c] + step / 2, g[r])
        assert p.distance(lines) <= step
    fig = plot_partition(part, points=np.array([[0.0, 0.0]]))
    assert len(fig.axes) == 1
    # single-output net: the boundary is the zero level set
    net1 = mlp(2, [8], 1, seed=8, bias_std=0.5, dtype=torch.float64)
    p1 = partition_2d(net1, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), (-2, 2, -2, 2))
    s1 = decision_boundary_segments(p1)
    if len(s1):
        np.testing.assert_allclose(_forward(net1, s1.reshape(-1, 2)), 0.0, atol=1e-9)


def test_partition_rejects_bad_input():
    net = mlp(2, [4], 1, seed=0)
    with pytest.raises(TheorylabError, match="bounds"):
        partition_2d(net, np.zeros(2), np.array([1.0, 0]), np.array([0, 1.0]), (1, -1, 0, 1))
    with pytest.raises(TheorylabError, match="share a shape"):
        partition_2d(net, np.zeros(2), np.ones(3), np.array([0, 1.0]))


# ---------------------------------------------------------------------------------- local complexity
def test_local_complexity_one_hidden_layer_closed_form():
    # 1-D input, n_frame = 1: the cross-polytope is [x − r, x + r]; LC = number of kinks −b/w
    # strictly inside it
    rng = np.random.default_rng(3)
    n = 40
    w, b = rng.standard_normal(n), rng.standard_normal(n)
    net = nn.Sequential(nn.Linear(1, n), nn.ReLU(), nn.Linear(n, 2)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w[:, None]))
        net[0].bias.copy_(torch.tensor(b))
    X = rng.uniform(-2, 2, size=(50, 1))
    r = 0.3
    lc = local_complexity(net, X, radius=r, n_frame=1, seed=0)
    kinks = -b / w
    expected = (np.abs(kinks[None, :] - X) < r).sum(axis=1)
    np.testing.assert_array_equal(lc[:, 0], expected)


def test_local_complexity_per_layer_shapes_and_monotone_in_radius():
    net = mlp(10, [20, 20, 20], 3, seed=0, bias_std=0.1)
    X = np.random.default_rng(0).standard_normal((30, 10))
    small = local_complexity(net, X, radius=0.01, n_frame=5, seed=1)
    large = local_complexity(net, X, radius=1.0, n_frame=5, seed=1)
    assert small.shape == (30, 3) and large.shape == (30, 3)
    # the same frame scaled: a bigger polytope contains the smaller one along each direction
    assert large.sum() > small.sum()
    with pytest.raises(TheorylabError, match="n_frame"):
        local_complexity(net, X, radius=0.1, n_frame=11)
    with pytest.raises(TheorylabError, match="radius"):
        local_complexity(net, X, radius=0.0)


# ---------------------------------------------------------------------------------- properties
@st.composite
def architectures(draw):
    d = draw(st.integers(2, 4))
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 7)) for _ in range(depth)]
    leaky = draw(st.sampled_from([0.0, 0.01, 0.2]))
    residual = draw(st.booleans())
    seed = draw(st.integers(0, 10_000))
    conv = draw(st.booleans())
    layers: list[nn.Module] = []
    prev = d
    act = (lambda: nn.ReLU()) if leaky == 0 else (lambda: nn.LeakyReLU(leaky))
    if conv:  # a Conv1d front end over the d input samples, average-pooled
        ch = draw(st.integers(1, 3))
        layers += [nn.Unflatten(1, (1, d)), nn.Conv1d(1, ch, 3, padding=1), act(), nn.AvgPool1d(2, stride=1),
                   nn.Flatten()]
        prev = ch * (d - 1)
    for w in widths:
        layers += [nn.Linear(prev, w), act()]
        if residual:
            layers.append(Residual(nn.Sequential(nn.Linear(w, w), act(), nn.Linear(w, w))))
        prev = w
    layers.append(nn.Linear(prev, draw(st.integers(1, 3))))
    net = init_params(nn.Sequential(*layers).double(), seed, "he", bias_std=0.5)
    return net, d, seed


@settings(max_examples=25, deadline=None)
@given(architectures())
def test_property_affine_map_exact(arch):
    net, d, seed = arch
    x = np.random.default_rng(seed).standard_normal(d)
    A, b = local_affine_map(net, x)
    np.testing.assert_allclose(A @ x + b, _forward(net, x[None])[0], atol=ATOL_MAP, rtol=0)


@settings(max_examples=15, deadline=None)
@given(architectures())
def test_property_segment_walk_agrees_with_grid(arch):
    net, d, seed = arch
    rng = np.random.default_rng(seed + 1)
    _grid_check_segment(net, rng.standard_normal(d), rng.standard_normal(d), n_grid=4001)


@settings(max_examples=12, deadline=None)
@given(architectures())
def test_property_partition_tiles_and_maps_match(arch):
    net, d, seed = arch
    rng = np.random.default_rng(seed + 2)
    _check_partition(net, rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal(d),
                     (-1.0, 1.0, -1.0, 1.0), n_grid=101)


def test_module_docstring_examples_run():
    import doctest

    import theorylab.probes.regions as mod

    result = doctest.testmod(mod)
    assert result.attempted >= 4 and result.failed == 0
