"""A photo texture for the mesh, cut from the keyframes at the video's own resolution.

The method of Waechter, Moehrle and Goesele, "Let there be color!" (ECCV 2014), the one
``mvs-texturing`` and OpenMVS follow, made cheap enough for 2 cores:

1. **Which views see each face**: every face projected into every keyframe; seen when it
   lies in the picture, in front of the camera and not behind another part of the mesh
   (a z-buffer of the mesh's own vertices, a quarter of the frame's size). Its worth there is
   its area in that picture's pixels: near and square-on views give more.
2. **One view per face**: the best view, then a few rounds of iterated conditional modes
   over a Potts term (a neighbour with another view costs ``smoothness``), the cheap
   stand-in for the paper's graph cut: neighbouring faces prefer one view, so seams are few.
3. **Seam levelling**: one colour gain per view and channel (least squares in log colour,
   over faces several views see), so exposure changes along the video leave no steps.
4. **The atlas**: each patch (connected faces with one view) is the very rectangle of its
   keyframe that it covers, copied with a margin of real pixels around it (so mip-maps
   blend the surface's own colours), shelf-packed. Its UVs are the projection of its
   vertices into that keyframe: no resampling, every texel is a pixel of the video.

Faces no keyframe sees keep their vertex colour, as a small swatch at the atlas's foot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TextureSource", "Texture", "bake_texture", "visible_faces"]

#: The z-buffer that decides what each view sees is drawn at this share of the frame's size.
ZBUFFER_SCALE = 0.25
#: Real pixels copied around each patch (mip-maps of a few levels read only the surface's own colours).
MARGIN_PX = 2
#: Rounds of iterated conditional modes (each settles fewer faces; past ten almost none change).
ICM_ROUNDS = 10
#: Faces nothing sees: their vertex colour, quantised to this many levels a channel, one swatch each.
SWATCH_LEVELS = 16
SWATCH_PX = 4
#: A view whose colour of a face differs from the views' median by more than this (mean over
#: channels, of 255) saw something else there.
CONSISTENT_GREY = 30.0


@dataclass
class TextureSource:
    """One keyframe as the texture sees it: the frame at the video's resolution and its camera."""

    rgb: np.ndarray  # (h, w, 3) uint8, as filmed (lens distortion included)
    K: np.ndarray  # 3x3, pixel-centre convention, at this frame's size
    dist: np.ndarray  # OpenCV (k1, k2, p1, p2, k3)
    world_from_camera: np.ndarray  # 4x4, OpenCV axes


@dataclass
class Texture:
    faces: np.ndarray  # (F, 3) into the textured vertices, in the mesh's face order
    vertex_of: np.ndarray  # (M,) the mesh vertex each textured vertex copies (seams duplicate vertices)
    uv: np.ndarray  # (M, 2) float32, glTF's convention (0, 0) at the atlas's top-left
    atlas: np.ndarray  # (H, W, 3) uint8, sRGB
    label: np.ndarray  # (F,) the source whose pixels each face shows, -1 for a vertex-colour swatch
    gains: np.ndarray  # (V, 3) the colour gain of each source (seam levelling)
    best_source: int  # the source that sees the largest area of the model
    #: (R, 9) each rectangle of the atlas: source, its box's corner in the source (x, y), its
    #: corner in the atlas (x, y), its size there (w, h), and its shrink (x, y): a point X of the
    #: surface has texel ``atlas + (project(X) - box + 0.5) * shrink`` (``rectangle_uv``)
    rectangles: np.ndarray = field(default_factory=lambda: np.zeros((0, 9)))
    #: each source's camera: (K, dist, world_from_camera), as the projection used them
    cameras: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def project(points: np.ndarray, source: TextureSource) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (pixel centres at integers) and depth of ``points`` in ``source``."""
    from ..._camera import project_points

    return project_points(points, source.K, source.dist, source.world_from_camera)


def visible_faces(verts: np.ndarray, faces: np.ndarray, xy: np.ndarray, z: np.ndarray, shape: tuple[int, int],
                  tolerance: float) -> np.ndarray:
    """Which faces a view sees: inside the picture, in front, and not hidden by the mesh
    (their centre no deeper than the vertex z-buffer there, plus ``tolerance``)."""
    import cv2

    h, w = shape
    zh, zw = max(1, int(h * ZBUFFER_SCALE)), max(1, int(w * ZBUFFER_SCALE))
    front = z > 0
    px = np.floor((xy[:, 0] + 0.5) * ZBUFFER_SCALE).astype(np.int64)
    py = np.floor((xy[:, 1] + 0.5) * ZBUFFER_SCALE).astype(np.int64)
    on = front & (px >= 0) & (px < zw) & (py >= 0) & (py < zh)
    zbuf = np.full(zh * zw, np.inf, dtype=np.float32)
    np.minimum.at(zbuf, py[on] * zw + px[on], z[on].astype(np.float32))
    # The vertices leave gaps a pixel wide between them: the nearest depth around fills them.
    zbuf = cv2.erode(zbuf.reshape(zh, zw), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    corners = xy[faces]
    inside = ((corners[..., 0] >= 0) & (corners[..., 0] <= w - 1) & (corners[..., 1] >= 0)
              & (corners[..., 1] <= h - 1) & front[faces]).all(axis=1)
    centre = corners.mean(axis=1)
    cz = z[faces].mean(axis=1)
    cx = np.clip(np.floor((centre[:, 0] + 0.5) * ZBUFFER_SCALE).astype(np.int64), 0, zw - 1)
    cy = np.clip(np.floor((centre[:, 1] + 0.5) * ZBUFFER_SCALE).astype(np.int64), 0, zh - 1)
    return inside & (cz <= zbuf[cy, cx] + tolerance + 0.01 * cz)


def centre_colours(faces: np.ndarray, xy: np.ndarray, source: TextureSource, which: np.ndarray) -> np.ndarray:
    """The colour at the centre of faces ``which`` in ``source``, from a copy at the z-buffer's
    scale (a little blur: a face's colour there is robust to a pixel of misregistration)."""
    import cv2

    small = cv2.resize(source.rgb, None, fx=ZBUFFER_SCALE, fy=ZBUFFER_SCALE, interpolation=cv2.INTER_AREA)
    centre = xy[faces[which]].mean(axis=1)
    cx = np.clip(np.round((centre[:, 0] + 0.5) * ZBUFFER_SCALE - 0.5).astype(int), 0, small.shape[1] - 1)
    cy = np.clip(np.round((centre[:, 1] + 0.5) * ZBUFFER_SCALE - 0.5).astype(int), 0, small.shape[0] - 1)
    return small[cy, cx]


def drop_inconsistent_views(worth: np.ndarray, faces: np.ndarray, xy_of: list[np.ndarray],
                            sources: list[TextureSource], max_difference: float = CONSISTENT_GREY) -> None:
    """Waechter et al.'s photo-consistency check, by the median: where three or more views
    see a face, a view whose colour there is far from the views' median saw something else
    (a passer-by, a tractor the mesh lacks, a wrongly judged occlusion) and is not used."""
    counts = (worth > 0).sum(axis=1)
    crowded = np.flatnonzero(counts >= 3)
    if len(crowded) == 0:
        return
    colours = np.full((len(crowded), len(sources), 3), np.nan, dtype=np.float32)
    for v, src in enumerate(sources):
        rows = np.flatnonzero(worth[crowded, v] > 0)
        if len(rows):
            colours[rows, v] = centre_colours(faces, xy_of[v], src, crowded[rows])
    # The median of each face's views (NaN where a view does not see it): np.sort puts NaN
    # last, so the middle of the first n is the median; np.nanmedian took 1.3 s here.
    ordered = np.sort(colours, axis=1)
    n = counts[crowded][:, None, None]
    median = 0.5 * (np.take_along_axis(ordered, (n - 1) // 2, axis=1) + np.take_along_axis(ordered, n // 2, axis=1))[:, 0]
    far = np.abs(colours - median[:, None, :]).mean(axis=2) > max_difference
    sub = worth[crowded]
    sub[far] = 0.0
    worth[crowded] = sub


def face_neighbours(faces: np.ndarray) -> np.ndarray:
    """(F, 3) the faces across each face's edges (-1 where none: a border or a non-manifold edge)."""
    import trimesh

    pairs = trimesh.graph.face_adjacency(faces=faces)
    out = np.full((len(faces), 3), -1, dtype=np.int64)
    if len(pairs) == 0:
        return out
    both = np.concatenate([pairs, pairs[:, ::-1]])
    order = np.lexsort((both[:, 1], both[:, 0]))
    both = both[order]
    first = np.searchsorted(both[:, 0], both[:, 0], side="left")
    slot = np.arange(len(both)) - first
    keep = slot < 3
    out[both[keep, 0], slot[keep]] = both[keep, 1]
    return out


def choose_views(worth: np.ndarray, neighbours: np.ndarray, smoothness: float) -> np.ndarray:
    """A source per face (-1: none sees it): the best, smoothed by iterated conditional
    modes on ``(1 - worth / best worth) + smoothness x neighbours with another source``."""
    faces = len(worth)
    best = worth.max(axis=1)
    seen = best > 0
    cost = np.where(worth > 0, 1.0 - worth / np.maximum(best, 1e-30)[:, None], np.inf).astype(np.float32)
    label = np.where(seen, worth.argmax(axis=1), -1)
    has = neighbours >= 0
    rows = np.arange(faces)
    half = (rows % 2).astype(bool)  # two alternating halves: no pair of neighbours flips together forever
    for rnd in range(ICM_ROUNDS):
        nlabel = np.where(has, label[np.maximum(neighbours, 0)], -1)
        candidates = np.concatenate([label[:, None], nlabel], axis=1)  # (F, 4)
        cand_cost = np.where(candidates >= 0, cost[rows[:, None], np.maximum(candidates, 0)], np.inf)
        disagree = (nlabel[:, None, :] != candidates[:, :, None]) & has[:, None, :]
        total = cand_cost + smoothness * disagree.sum(axis=2)
        pick = candidates[rows, total.argmin(axis=1)]
        update = seen & (half if rnd % 2 else ~half)
        changed = update & (pick != label)
        label = np.where(update, pick, label)
        if not changed.any() and rnd:
            break
    return label


def level_gains(samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], sources: int,
                use: np.ndarray, prior: float = 0.1) -> np.ndarray:
    """(V, 3) multiplicative gains that bring each source's colours of the same faces together.

    ``samples``: (face, source, rgb 0..255) triples. Least squares in log colour: every sample
    is its face's true colour times its source's gain; a weak prior keeps gains near 1. The
    gains' common level is then set so that, weighted by ``use`` (the faces each source
    textures), they average 1: the texture keeps the footage's own exposure.
    """
    from scipy.sparse import coo_matrix, vstack
    from scipy.sparse.linalg import lsqr

    face = np.concatenate([s[0] for s in samples]) if samples else np.zeros(0, np.int64)
    if len(face) == 0:
        return np.ones((sources, 3))
    src = np.concatenate([s[1] for s in samples])
    rgb = np.concatenate([s[2] for s in samples]).astype(np.float64)
    _, face_id = np.unique(face, return_inverse=True)
    n = len(face)
    unknowns = sources + face_id.max() + 1
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([src, sources + face_id])
    vals = np.concatenate([np.ones(n), -np.ones(n)])
    A = coo_matrix((vals, (rows, cols)), shape=(n, unknowns))
    reg = coo_matrix((np.full(sources, prior * np.sqrt(n / sources)), (np.arange(sources), np.arange(sources))),
                     shape=(sources, unknowns))
    A = vstack([A, reg]).tocsr()
    gains = np.ones((sources, 3))
    for c in range(3):
        b = np.concatenate([-np.log(np.maximum(rgb[:, c], 4.0)), np.zeros(sources)])
        g = lsqr(A, b, atol=1e-8, btol=1e-8, iter_lim=500)[0][:sources]
        g -= np.average(g, weights=use) if use.sum() > 0 else g.mean()
        gains[:, c] = np.exp(np.clip(g, -0.5, 0.5))
    return gains


def seam_gains(worth: np.ndarray, faces: np.ndarray, xy_of: list[np.ndarray], sources: list[TextureSource],
               label: np.ndarray, levelling: float) -> np.ndarray:
    """(V, 3) the gains of :func:`level_gains` raised to ``levelling`` (0: all ones, nothing
    measured), from up to 20,000 faces that several views see nearly as well as the best one
    does (a grazing view's colour of a face is mostly its neighbours' and whatever lies in front)."""
    V = len(sources)
    if levelling <= 0:
        return np.ones((V, 3))
    good = (worth >= 0.5 * worth.max(axis=1, keepdims=True)) & (worth > 0)
    multi = np.flatnonzero(good.sum(axis=1) >= 2)
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(multi, min(len(multi), 20_000), replace=False)) if len(multi) else multi
    samples = []
    for v, src in enumerate(sources):
        f = pick[good[pick, v]]
        if len(f):
            samples.append((f, np.full(len(f), v), centre_colours(faces, xy_of[v], src, f)))
    use = np.bincount(label[label >= 0], minlength=V).astype(np.float64)
    return level_gains(samples, V, use) ** levelling


def _patches(label: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Connected pieces of faces with the same source: a patch id per face."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    f = np.repeat(np.arange(len(label)), 3)
    g = neighbours.ravel()
    same = (g >= 0) & (label[f] == label[np.maximum(g, 0)])
    graph = coo_matrix((np.ones(int(same.sum()), np.int8), (f[same], g[same])), shape=(len(label), len(label)))
    return connected_components(graph, directed=False)[1]


def _merged_rectangles(boxes: list[list[float]]) -> tuple[list[list[float]], list[int]]:
    """Boxes of one view merged while any two overlap: (merged boxes, the merged box of each input)."""
    rects = [list(b) for b in boxes]
    owner = list(range(len(boxes)))
    merged = True
    while merged:
        merged = False
        for i in range(len(rects)):
            if rects[i] is None:
                continue
            for j in range(i + 1, len(rects)):
                a, b = rects[i], rects[j]
                if b is None or a[0] > b[2] or b[0] > a[2] or a[1] > b[3] or b[1] > a[3]:
                    continue
                rects[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                rects[j] = None
                owner = [i if o == j else o for o in owner]
                merged = True
    kept = [i for i, r in enumerate(rects) if r is not None]
    position = {k: n for n, k in enumerate(kept)}
    return [rects[i] for i in kept], [position[o] for o in owner]


def _shelf_pack(sizes: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """Top-left corners of ``sizes`` (w, h) on shelves ``width`` wide, tallest first; total height."""
    order = np.lexsort((np.arange(len(sizes)), -sizes[:, 1]))
    at = np.zeros((len(sizes), 2), dtype=np.int64)
    x = y = shelf = 0
    for k in order:
        w, h = sizes[k]
        if x + w > width:
            x, y, shelf = 0, y + shelf, 0
        at[k] = (x, y)
        x += w
        shelf = max(shelf, h)
    return at, y + shelf


def bake_texture(verts: np.ndarray, faces: np.ndarray, colors: np.ndarray, sources: list[TextureSource], *,
                 tolerance: float, smoothness: float = 1.0, levelling: float = 0.0, max_side: int = 4096) -> Texture:
    """The mesh's photo texture from ``sources`` (see the module's docstring); ``tolerance``
    is how far behind the nearest surface a face may lie and still be seen (a couple of voxels);
    ``levelling`` how much of the seam-levelling gains to apply (0: none, 1: all)."""
    import cv2

    verts = np.asarray(verts, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    F, V = len(faces), len(sources)
    worth = np.zeros((F, V), dtype=np.float32)
    xy_of, seen_area = [], np.zeros(V)
    area3d = 0.5 * np.linalg.norm(np.cross(verts[faces[:, 1]] - verts[faces[:, 0]],
                                           verts[faces[:, 2]] - verts[faces[:, 0]]), axis=1)
    for v, src in enumerate(sources):
        xy, z = project(verts, src)
        xy_of.append(xy)
        seen = visible_faces(verts, faces, xy, z, src.rgb.shape[:2], tolerance)
        c = xy[faces]
        area = 0.5 * np.abs((c[:, 1, 0] - c[:, 0, 0]) * (c[:, 2, 1] - c[:, 0, 1])
                            - (c[:, 2, 0] - c[:, 0, 0]) * (c[:, 1, 1] - c[:, 0, 1]))
        worth[:, v] = np.where(seen, area, 0.0)
        seen_area[v] = area3d[seen].sum()
    drop_inconsistent_views(worth, faces, xy_of, sources)
    neighbours = face_neighbours(faces)
    label = choose_views(worth, neighbours, smoothness)

    gains = seam_gains(worth, faces, xy_of, sources, label, levelling)

    patch = _patches(label, neighbours)
    textured = np.flatnonzero(label >= 0)
    # Each patch's box in its view, then the boxes of one view merged where they overlap.
    rect_of_face = np.full(F, -1, dtype=np.int64)
    rects, rect_view = [], []
    if len(textured):
        order = textured[np.lexsort((textured, patch[textured]))]
        starts = np.flatnonzero(np.r_[True, np.diff(patch[order]) != 0])
        groups = np.split(order, starts[1:])
        # Every face's corners in its own view, then each patch's box by one reduceat.
        corners = np.empty((len(order), 3, 2))
        for v in np.unique(label[order]):
            m = label[order] == v
            corners[m] = xy_of[v][faces[order[m]]]
        lo = np.minimum.reduceat(corners.min(axis=1), starts, axis=0)
        hi = np.maximum.reduceat(corners.max(axis=1), starts, axis=0)
        by_view: dict[int, list[tuple[np.ndarray, list[float]]]] = {}
        for g, a, b in zip(groups, lo, hi):
            by_view.setdefault(int(label[g[0]]), []).append((g, [a[0], a[1], b[0], b[1]]))
        for v in sorted(by_view):
            boxes, owner = _merged_rectangles([b for _, b in by_view[v]])
            base = len(rects)
            rects += boxes
            rect_view += [v] * len(boxes)
            for (g, _), o in zip(by_view[v], owner):
                rect_of_face[g] = base + o
    # Pixel boxes with their margins, inside the frame.
    boxes = []
    for r, v in zip(rects, rect_view):
        h, w = sources[v].rgb.shape[:2]
        x0, y0 = max(0, int(np.floor(r[0])) - MARGIN_PX), max(0, int(np.floor(r[1])) - MARGIN_PX)
        x1, y1 = min(w, int(np.ceil(r[2])) + 1 + MARGIN_PX), min(h, int(np.ceil(r[3])) + 1 + MARGIN_PX)
        boxes.append((x0, y0, x1, y1))
    boxes_a = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    untextured = np.flatnonzero(label < 0)
    swatch_key = np.zeros(0, np.int64)
    if len(untextured):
        q = (colors[faces[untextured]].astype(np.float64).mean(axis=1) * SWATCH_LEVELS / 256).astype(np.int64)
        swatch_key = q[:, 0] * SWATCH_LEVELS ** 2 + q[:, 1] * SWATCH_LEVELS + q[:, 2]
    swatches, swatch_of = np.unique(swatch_key, return_inverse=True)

    # Scale every box alike when they would not fit in max_side x max_side.
    sizes_full = np.stack([boxes_a[:, 2] - boxes_a[:, 0], boxes_a[:, 3] - boxes_a[:, 1]], axis=1)
    scale = 1.0
    for _ in range(30):
        sizes = np.maximum(1, np.ceil(sizes_full * scale).astype(np.int64)) if len(sizes_full) else sizes_full
        sizes = np.concatenate([sizes, np.full((len(swatches), 2), SWATCH_PX, np.int64)])
        area = float((sizes[:, 0] * sizes[:, 1]).sum()) if len(sizes) else 1.0
        width = int(min(max_side, max(int(sizes[:, 0].max()) if len(sizes) else 8, np.ceil(np.sqrt(area * 1.08)))))
        width = -(-width // 8) * 8
        at, height = _shelf_pack(sizes, width)
        if height <= max_side:
            break
        scale *= 0.9 * np.sqrt(max_side / height)
    height = max(8, -(-height // 8) * 8)
    atlas = np.zeros((height, width, 3), dtype=np.uint8)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        v = rect_view[k]
        crop = np.clip(sources[v].rgb[y0:y1, x0:x1].astype(np.float32) * gains[v].astype(np.float32), 0, 255)
        crop = np.rint(crop).astype(np.uint8)
        w, h = sizes[k]
        if (w, h) != (x1 - x0, y1 - y0):
            crop = cv2.resize(crop, (int(w), int(h)), interpolation=cv2.INTER_AREA)
        atlas[at[k, 1]:at[k, 1] + h, at[k, 0]:at[k, 0] + w] = crop
    n_rects = len(boxes)
    for s, key in enumerate(swatches):
        level = np.array([key // SWATCH_LEVELS ** 2, (key // SWATCH_LEVELS) % SWATCH_LEVELS, key % SWATCH_LEVELS])
        x, y = at[n_rects + s]
        atlas[y:y + SWATCH_PX, x:x + SWATCH_PX] = ((level + 0.5) * 256 / SWATCH_LEVELS).astype(np.uint8)

    # Textured vertices: one copy of a mesh vertex per box (or swatch) that uses it.
    group = np.where(label >= 0, rect_of_face, n_rects + np.zeros(F, np.int64))
    if len(untextured):
        group[untextured] = n_rects + swatch_of
    keys = group[:, None] * (len(verts) + 1) + faces
    unique_keys, inverse = np.unique(keys.ravel(), return_inverse=True)
    new_faces = inverse.reshape(-1, 3)
    vertex_of = unique_keys % (len(verts) + 1)
    vgroup = unique_keys // (len(verts) + 1)
    uv = np.zeros((len(unique_keys), 2))
    # Vectorised over boxes: each vertex's pixel in its box's view, moved into the atlas.
    in_box = vgroup < n_rects
    if in_box.any():
        views_of = np.asarray(rect_view, dtype=np.int64)[vgroup[in_box]]
        pix = np.empty((int(in_box.sum()), 2))
        idx = np.flatnonzero(in_box)
        for v in np.unique(views_of):
            m = views_of == v
            pix[m] = xy_of[v][vertex_of[idx[m]]]
        b = boxes_a[vgroup[in_box]]
        shrink = sizes[:n_rects] / np.maximum(sizes_full, 1)  # each box's own scale, rounded to whole texels
        uv[idx] = at[vgroup[in_box]] + (pix - b[:, :2] + 0.5) * shrink[vgroup[in_box]]
    sw = ~in_box
    if sw.any():
        uv[sw] = at[vgroup[sw]] + SWATCH_PX / 2.0
    uv = (uv / np.array([width, height])).astype(np.float32)
    best_source = int(np.argmax(seen_area)) if V else -1
    stats = {"texture_sources": V, "texture_patches": int(len(np.unique(patch[textured]))) if len(textured) else 0,
             "texture_rectangles": n_rects, "texture_size": [int(width), int(height)],
             "texture_scale": round(float(scale), 4), "faces_textured": int(len(textured)),
             "faces_swatched": int(len(untextured))}
    shrink_all = sizes[:n_rects] / np.maximum(sizes_full, 1) if n_rects else np.zeros((0, 2))
    rectangles = np.column_stack([np.asarray(rect_view, dtype=np.float64), boxes_a[:, :2], at[:n_rects],
                                  sizes[:n_rects], shrink_all]) if n_rects else np.zeros((0, 9))
    cameras = [(src.K, src.dist, src.world_from_camera) for src in sources]
    return Texture(new_faces, vertex_of, uv, atlas, label, gains, best_source, rectangles, cameras, stats)
