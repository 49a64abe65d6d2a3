"""Deterministic synthetic walkthrough videos with ground truth, rendered without OpenGL.

The scene is a textured floor with textured boxes and spheres on it, lit by a fixed
directional light (no specular highlights, so a surface looks the same from every view,
as photogrammetry assumes). Frames are rendered by casting one ray per pixel against the
analytic shapes in numpy, which is fast enough (~0.1 s per 960x540 frame) and needs no GPU.

World frame: metres, y up (as glTF), floor at y = 0. Cameras use OpenCV axes (x right,
y down, z forward); ``world_from_camera`` maps camera coordinates to world coordinates.

The bundled sample video is::

    render_video(path, sample_scene(), walkthrough_trajectory(**SAMPLE_TRAJECTORY), **SAMPLE_RENDER)

(``make_scene()`` with a 30 cm printed marker on its floor, ``SAMPLE_MARKER``), and
:func:`sample_ground_truth` rebuilds its ground truth (mesh, intrinsics, poses) from the
same parameters without rendering anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Trajectory of the bundled sample (``walkthrough_trajectory(**SAMPLE_TRAJECTORY)``).
SAMPLE_TRAJECTORY = dict(duration_s=8.0, fps=15.0, radius=4.2, arc_deg=80.0, start_deg=50.0, seed=1)
#: Rendering settings of the bundled sample (``render_video(..., **SAMPLE_RENDER)``).
SAMPLE_RENDER = dict(width=640, height=360, hfov_deg=65.0, crf=23)


# ----------------------------------------------------------------------------- textures


def _noise_texture(rng: np.random.Generator, size: int, base: np.ndarray) -> np.ndarray:
    """Multi-octave value noise plus random blotches, RGB float in [0, 1].

    Photogrammetry needs texture at several scales: coarse octaves give stereo matching
    context, fine octaves and sharp blotch edges give SIFT corners.
    """
    img = np.zeros((size, size), np.float32)
    amp, total = 1.0, 0.0
    for cells in (4, 8, 16, 32, 64, 128, 256):
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        grid[-1, :] = grid[0, :]
        grid[:, -1] = grid[:, 0]  # tileable
        coords = np.linspace(0, cells, size, endpoint=False)
        i0 = np.floor(coords).astype(int)
        f = (coords - i0).astype(np.float32)
        f = f * f * (3 - 2 * f)
        a = grid[i0][:, i0] * (1 - f)[None, :] + grid[i0][:, i0 + 1] * f[None, :]
        b = grid[i0 + 1][:, i0] * (1 - f)[None, :] + grid[i0 + 1][:, i0 + 1] * f[None, :]
        img += amp * (a * (1 - f)[:, None] + b * f[:, None])
        total += amp
        amp *= 1.0  # equal weight per octave: fine detail as strong as coarse shading
    img /= total
    img = (img - img.min()) / max(float(np.ptp(img)), 1e-6)
    # Per-texel grain: gives dense stereo something to lock onto inside smooth regions.
    img = img + 0.25 * (rng.random((size, size)).astype(np.float32) - 0.5)
    tex = base[None, None, :] * (0.45 + 0.8 * img[..., None])
    # Sharp-edged blotches of random colour: strong, repeatable corners.
    for _ in range(size // 3):
        cx, cy = rng.integers(0, size, 2)
        r = int(rng.integers(size // 120 + 2, size // 20))
        col = rng.random(3).astype(np.float32)
        d = np.arange(-r, r + 1)
        dy, dx = np.meshgrid(d, d, indexing="ij")
        if rng.random() < 0.5:
            mask = dx * dx + dy * dy < r * r
        else:
            mask = (np.abs(dx) < r) & (np.abs(dy) < r * rng.uniform(0.3, 1.0))
        rows = ((cy + dy) % size)[mask]
        cols = ((cx + dx) % size)[mask]  # wrap: the texture tiles seamlessly
        tex[rows, cols] = 0.35 * tex[rows, cols] + 0.65 * col
    return np.clip(tex, 0, 1).astype(np.float32)


def _bilinear(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear, wrapping lookup; ``u, v`` in texels."""
    size = tex.shape[0]
    u0 = np.floor(u)
    v0 = np.floor(v)
    fu = (u - u0)[:, None].astype(np.float32)
    fv = (v - v0)[:, None].astype(np.float32)
    u0 = u0.astype(np.int64) % size
    v0 = v0.astype(np.int64) % size
    u1 = (u0 + 1) % size
    v1 = (v0 + 1) % size
    top = tex[v0, u0] * (1 - fu) + tex[v0, u1] * fu
    bot = tex[v1, u0] * (1 - fu) + tex[v1, u1] * fu
    return top * (1 - fv) + bot * fv


def _mip_levels(tex: np.ndarray) -> list[np.ndarray]:
    """Box-filtered pyramid: level k averages 2^k x 2^k texels."""
    levels = [tex]
    while levels[-1].shape[0] > 8:
        t = levels[-1]
        levels.append(0.25 * (t[0::2, 0::2] + t[1::2, 0::2] + t[0::2, 1::2] + t[1::2, 1::2]))
    return levels


def _sample_texture(levels: list[np.ndarray], u: np.ndarray, v: np.ndarray, footprint: np.ndarray | None = None) -> np.ndarray:
    """Mip-mapped lookup: a pixel covering ``footprint`` texels reads a pre-averaged level.

    A camera integrates light over each pixel; point-sampling a texture that is minified (a
    floor seen far away at a grazing angle) instead aliases into flicker that no real video
    shows and that would make stereo matching artificially hard.
    """
    if footprint is None:
        return _bilinear(levels[0], u, v)
    lvl = np.clip(np.floor(np.log2(np.maximum(footprint, 1.0))), 0, len(levels) - 1).astype(np.int64)
    out = np.empty((len(u), 3), np.float32)
    for k in np.unique(lvl):
        sel = lvl == k
        out[sel] = _bilinear(levels[k], (u[sel] - 0.5) / 2**k, (v[sel] - 0.5) / 2**k)
    return out


# ----------------------------------------------------------------------------- scene


@dataclass
class Box:
    center: np.ndarray  # (3,) world, metres
    size: np.ndarray  # (3,) full extents along local x, y, z
    yaw: float  # rotation about world y, radians
    texture: int


@dataclass
class Sphere:
    center: np.ndarray
    radius: float
    texture: int


@dataclass
class FloorMarker:
    """A printed ArUco marker (DICT_4X4_50) lying on the floor, on a white sheet."""

    center: np.ndarray  # (2,) world x, z, metres
    side: float  # the black square's side, metres
    yaw: float
    marker_id: int

    def cells(self) -> np.ndarray:
        """6 x 6 booleans, True where black (the 4 x 4 code inside a one-cell black border)."""
        import cv2

        dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
        return cv2.aruco.generateImageMarker(dictionary, self.marker_id, 6, borderBits=1) < 128

    def outline(self) -> np.ndarray:
        """(4, 3) world corners of the black square, in the order ArUco reports them (clockwise
        from the marker's own top left, as ``cells`` is drawn)."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        across = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]  # (u, v) of _paint_marker, centred
        return np.array([[self.center[0] + self.side * (c * u + s * v), 0.0,
                          self.center[1] + self.side * (-s * u + c * v)] for u, v in across])


@dataclass
class Scene:
    floor_half: float
    boxes: list[Box]
    spheres: list[Sphere]
    textures: list[np.ndarray]
    markers: list[FloorMarker] = field(default_factory=list)
    texels_per_metre: float = 160.0
    mips: list = field(default_factory=list)  # per texture, its mip levels (built on first use)
    light: np.ndarray = field(default_factory=lambda: np.array([0.4, 1.0, 0.25]) / np.linalg.norm([0.4, 1.0, 0.25]))

    def mesh(self):
        """The ground-truth surface as a ``trimesh.Trimesh`` (y up, metres)."""
        import trimesh

        parts = []
        h = self.floor_half
        floor = trimesh.Trimesh(
            vertices=[[-h, 0, -h], [h, 0, -h], [h, 0, h], [-h, 0, h]], faces=[[0, 2, 1], [0, 3, 2]]
        )
        parts.append(floor)
        for b in self.boxes:
            t = np.eye(4)
            t[:3, :3] = yaw_matrix(b.yaw)
            t[:3, 3] = b.center
            parts.append(trimesh.creation.box(extents=b.size, transform=t))
        for s in self.spheres:
            m = trimesh.creation.icosphere(subdivisions=5, radius=s.radius)
            m.apply_translation(s.center)
            parts.append(m)
        return trimesh.util.concatenate(parts)


def yaw_matrix(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def make_scene(seed: int = 0) -> Scene:
    """A room-sized arrangement: 8 x 8 m floor, boxes of furniture size and two spheres."""
    rng = np.random.default_rng(seed)
    palette = [
        np.array(c, np.float32)
        for c in ([0.75, 0.65, 0.5], [0.5, 0.6, 0.8], [0.8, 0.45, 0.4], [0.5, 0.75, 0.5], [0.8, 0.75, 0.45],
                  [0.65, 0.5, 0.75], [0.55, 0.55, 0.55])
    ]
    # The floor gets one 1024-texel tile over its 8 m so no pattern repeats (repeats confuse matching).
    textures = [_noise_texture(rng, 1024 if i == 0 else 512, c) for i, c in enumerate(palette)]
    boxes = [
        Box(np.array([0.0, 0.45, 0.0]), np.array([1.6, 0.9, 0.9]), 0.2, 1),
        Box(np.array([-1.6, 0.6, 0.9]), np.array([0.7, 1.2, 0.7]), -0.5, 2),
        Box(np.array([1.5, 0.35, -0.8]), np.array([0.9, 0.7, 1.1]), 0.7, 3),
        Box(np.array([0.3, 1.05, -1.9]), np.array([2.4, 2.1, 0.5]), 0.05, 4),
        Box(np.array([0.1, 1.15, 0.05]), np.array([0.5, 0.5, 0.5]), 0.9, 5),
    ]
    spheres = [Sphere(np.array([1.3, 0.45, 1.1]), 0.45, 6), Sphere(np.array([-1.2, 0.3, -0.9]), 0.3, 5)]
    return Scene(floor_half=4.0, boxes=boxes, spheres=spheres, textures=textures)


# ----------------------------------------------------------------------------- cameras


def look_at(eye: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """4x4 world_from_camera with OpenCV axes looking from ``eye`` at ``target``."""
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, np.array([0.0, 1.0, 0.0]))  # right = forward x up (world y up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)  # down
    c, s = math.cos(roll), math.sin(roll)
    x, y = c * x + s * y, -s * x + c * y
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


@dataclass
class Trajectory:
    times: np.ndarray  # (n,) seconds
    world_from_camera: np.ndarray  # (n, 4, 4)
    fps: float


def walkthrough_trajectory(
    duration_s: float = 20.0,
    fps: float = 30.0,
    radius: float = 4.2,
    arc_deg: float = 150.0,
    start_deg: float = 15.0,
    eye_height: float = 1.6,
    target=(0.0, 0.5, 0.0),
    seed: int = 0,
) -> Trajectory:
    """A person walking along an arc at eye height, filming the objects in the middle.

    Adds what a hand-held phone does: a step bob (~1.8 Hz), slow sway of the aim point and
    a little roll, all smooth and seeded so the ground truth is reproducible.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    s = t / max(duration_s, 1e-9)
    s = s - 0.04 * np.sin(2 * np.pi * s)  # gentle start and stop
    ang = np.radians(start_deg + arc_deg * s)
    phases = rng.uniform(0, 2 * np.pi, 6)
    r = radius + 0.15 * np.sin(2 * np.pi * 0.13 * t + phases[0])
    height = eye_height + 0.02 * np.sin(2 * np.pi * 1.8 * t + phases[1]) + 0.05 * np.sin(2 * np.pi * 0.1 * t + phases[2])
    tgt = np.asarray(target, float)
    poses = np.empty((n, 4, 4))
    for i in range(n):
        eye = np.array([r[i] * math.cos(ang[i]), height[i], r[i] * math.sin(ang[i])])
        aim = tgt + np.array(
            [0.25 * math.sin(2 * np.pi * 0.21 * t[i] + phases[3]), 0.12 * math.sin(2 * np.pi * 0.17 * t[i] + phases[4]),
             0.25 * math.cos(2 * np.pi * 0.19 * t[i] + phases[5])]
        )
        roll = math.radians(1.5) * math.sin(2 * np.pi * 0.3 * t[i] + phases[0])
        poses[i] = look_at(eye, aim, roll)
    return Trajectory(t, poses, fps)


def orbit_trajectory(duration_s: float = 6.0, fps: float = 30.0, radius: float = 3.6, height: float = 2.2,
                     turns: float = 1.0, target=(0.0, 0.4, 0.0)) -> Trajectory:
    """A fast orbit all the way around the objects, looking slightly down."""
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    ang = 2 * np.pi * turns * t / duration_s
    poses = np.stack(
        [look_at(np.array([radius * math.cos(a), height, radius * math.sin(a)]), np.asarray(target, float)) for a in ang]
    )
    return Trajectory(t, poses, fps)


def intrinsics(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """3x3 K; principal point at the image centre in the pixel-corner convention (COLMAP's)."""
    f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2)
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1.0]])


# ----------------------------------------------------------------------------- rendering


def _sphere_candidates(origin: np.ndarray, dirs: np.ndarray, center: np.ndarray, radius: float) -> np.ndarray:
    """Indices of the rays that pass within ``radius`` of ``center`` (in front of the origin)."""
    oc = origin - center
    bq = dirs @ oc
    disc = bq * bq - (oc @ oc - radius * radius)
    return np.nonzero((disc > 0) & (bq < np.sqrt(np.maximum(disc, 0))))[0]


def _cast(scene: Scene, origin: np.ndarray, dirs: np.ndarray, pixel_angle: float | None = None):
    """Nearest hit per ray: (depth along ray, colour) with sky where nothing is hit.

    ``pixel_angle`` (radians per pixel sample) enables mip-mapped texturing.
    """
    if not scene.mips:
        scene.mips = [_mip_levels(t) for t in scene.textures]

    def footprint(t, cos, tpm_here):
        # Long axis of the pixel's footprint on the surface, in texels.
        if pixel_angle is None:
            return None
        return t * pixel_angle * tpm_here / np.maximum(np.abs(cos), 0.02)

    n = dirs.shape[0]
    best = np.full(n, np.inf)
    color = np.zeros((n, 3), np.float32)
    normal = np.zeros((n, 3))
    tpm = scene.texels_per_metre

    # Floor y = 0 inside the square.
    with np.errstate(divide="ignore", invalid="ignore"):
        tf = -origin[1] / dirs[:, 1]
    p = origin + tf[:, None] * dirs
    ok = (dirs[:, 1] < -1e-9) & (tf > 0) & (np.abs(p[:, 0]) <= scene.floor_half) & (np.abs(p[:, 2]) <= scene.floor_half)
    idx = np.nonzero(ok)[0]
    best[idx] = tf[idx]
    floor_tpm = scene.textures[0].shape[0] / (2 * scene.floor_half)
    color[idx] = _sample_texture(scene.mips[0], p[idx, 0] * floor_tpm, p[idx, 2] * floor_tpm,
                                 footprint(tf[idx], dirs[idx, 1], floor_tpm))
    normal[idx] = [0, 1, 0]
    for marker in scene.markers:
        _paint_marker(marker, p[idx], color, idx)

    for b in scene.boxes:
        # Only rays through the bounding sphere need the (costlier) slab test.
        cand = _sphere_candidates(origin, dirs, b.center, 0.5 * float(np.linalg.norm(b.size)))
        if cand.size == 0:
            continue
        rot = yaw_matrix(b.yaw)  # world_from_local
        o = rot.T @ (origin - b.center)
        d = dirs[cand] @ rot  # local directions
        half = b.size / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (-half - o) / d
            t2 = (half - o) / d
        tmin = np.minimum(t1, t2)
        tmax = np.maximum(t1, t2)
        tmin = np.where(np.isnan(tmin), -np.inf, tmin)
        tmax = np.where(np.isnan(tmax), np.inf, tmax)
        tn = tmin.max(axis=1)
        tx = tmax.min(axis=1)
        hit = (tn <= tx) & (tn > 0) & (tn < best[cand])
        sub = np.nonzero(hit)[0]
        if sub.size == 0:
            continue
        idx = cand[sub]
        axis = tmin[sub].argmax(axis=1)
        tl = o + tn[sub, None] * d[sub]
        nl = np.zeros((idx.size, 3))
        nl[np.arange(idx.size), axis] = -np.sign(d[sub, axis])
        # Texture coordinates: the two in-face local axes, offset per face so faces differ.
        ua = np.where(axis == 0, tl[:, 2], tl[:, 0])
        va = np.where(axis == 1, tl[:, 2], tl[:, 1])
        off = (axis * 2 + (nl[np.arange(idx.size), axis] > 0)) * 61.7
        best[idx] = tn[sub]
        nw = nl @ rot.T
        color[idx] = _sample_texture(scene.mips[b.texture], ua * tpm + off, va * tpm + 3 * off,
                                     footprint(tn[sub], (dirs[idx] * nw).sum(1), tpm))
        normal[idx] = nw

    for s in scene.spheres:
        cand = _sphere_candidates(origin, dirs, s.center, s.radius)
        oc = origin - s.center
        bq = dirs[cand] @ oc
        disc = bq * bq - (oc @ oc - s.radius**2)
        th = -bq - np.sqrt(np.maximum(disc, 0))
        hit = (th > 0) & (th < best[cand])
        idx = cand[hit]
        if idx.size == 0:
            continue
        th = np.full(len(dirs), np.inf)
        th[idx] = (-bq - np.sqrt(np.maximum(disc, 0)))[hit]
        q = origin + th[idx, None] * dirs[idx] - s.center
        nrm = q / s.radius
        lon = np.arctan2(nrm[:, 2], nrm[:, 0])
        lat = np.arcsin(np.clip(nrm[:, 1], -1, 1))
        best[idx] = th[idx]
        color[idx] = _sample_texture(scene.mips[s.texture], lon * s.radius * tpm, lat * s.radius * tpm,
                                     footprint(th[idx], (dirs[idx] * nrm).sum(1), tpm))
        normal[idx] = nrm

    hitany = np.isfinite(best)
    shade = 0.55 + 0.45 * np.clip(normal @ scene.light, 0, 1)
    color *= shade[:, None].astype(np.float32)
    # Sky: a smooth gradient (textureless, as real skies and blank walls are).
    sky = ~hitany
    up = np.clip(dirs[sky, 1], -1, 1)
    color[sky] = np.stack([0.70 + 0.1 * up, 0.78 + 0.1 * up, 0.88 + 0.1 * up], axis=1)
    return best, color


def _paint_marker(marker: FloorMarker, points: np.ndarray, color: np.ndarray, idx: np.ndarray) -> None:
    """Floor hits on the marker's sheet take its black and white (the renderer's supersampling
    antialiases the cell edges)."""
    c, s = math.cos(marker.yaw), math.sin(marker.yaw)
    dx, dz = points[:, 0] - marker.center[0], points[:, 2] - marker.center[1]
    u = (c * dx - s * dz) / marker.side + 0.5  # 0..1 across the black square
    v = (s * dx + c * dz) / marker.side + 0.5
    on_sheet = (u > -0.3) & (u < 1.3) & (v > -0.3) & (v < 1.3)
    inside = on_sheet & (u >= 0) & (u < 1) & (v >= 0) & (v < 1)
    color[idx[on_sheet]] = 0.92  # white paper
    cells = marker.cells()
    black = np.zeros(len(points), bool)
    black[inside] = cells[(v[inside] * 6).astype(int), (u[inside] * 6).astype(int)]
    color[idx[black]] = 0.05


def _camera_rays(K: np.ndarray, width: int, height: int, ss: int) -> np.ndarray:
    """Unit ray directions in camera coordinates, ``ss x ss`` samples per pixel."""
    offs = (np.arange(ss) + 0.5) / ss
    us = (np.arange(width)[:, None] + offs[None, :]).ravel()
    vs = (np.arange(height)[:, None] + offs[None, :]).ravel()
    uu, vv = np.meshgrid(us, vs)
    d = np.stack([(uu - K[0, 2]) / K[0, 0], (vv - K[1, 2]) / K[1, 1], np.ones_like(uu)], axis=-1).reshape(-1, 3)
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def render(scene: Scene, K: np.ndarray, world_from_camera: np.ndarray, width: int, height: int, ss: int = 2):
    """Render one view: (uint8 RGB image (h, w, 3), z-depth (h, w) in metres, inf for sky)."""
    cam_dirs = _camera_rays(K, width, height, ss)
    R = world_from_camera[:3, :3]
    t_hit, color = _cast(scene, world_from_camera[:3, 3], cam_dirs @ R.T, pixel_angle=1.0 / (K[0, 0] * ss))
    img = color.reshape(height, ss, width, ss, 3).mean(axis=(1, 3))  # box-filter supersamples
    z = (t_hit * cam_dirs[:, 2]).reshape(height, ss, width, ss).min(axis=(1, 3))
    rgb = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    return rgb, z


def depth_map(scene: Scene, K: np.ndarray, world_from_camera: np.ndarray, width: int, height: int) -> np.ndarray:
    """Ground-truth z-depth per pixel centre (inf where the ray sees sky)."""
    cam_dirs = _camera_rays(K, width, height, 1)
    t_hit, _ = _cast(scene, world_from_camera[:3, 3], cam_dirs @ world_from_camera[:3, :3].T)
    return (t_hit * cam_dirs[:, 2]).reshape(height, width)


@dataclass
class GroundTruth:
    scene: Scene
    K: np.ndarray
    width: int
    height: int
    trajectory: Trajectory

    def mesh(self):
        return self.scene.mesh()


def render_video(path, scene: Scene, trajectory: Trajectory, width: int = 960, height: int = 540,
                 hfov_deg: float = 65.0, crf: int = 20, ss: int = 2, progress=None) -> GroundTruth:
    """Render ``trajectory`` to an H.264 MP4 at ``path``; return the ground truth."""
    import av

    K = intrinsics(width, height, hfov_deg)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=int(round(trajectory.fps)))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium"}
        for i, pose in enumerate(trajectory.world_from_camera):
            rgb, _ = render(scene, K, pose, width, height, ss)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
            if progress is not None:
                progress(i + 1, len(trajectory.times))
        for packet in stream.encode():
            out.mux(packet)
    return GroundTruth(scene, K, width, height, trajectory)


#: The printed marker on the sample's floor: DICT_4X4_50 id 0 with a 30 cm black square, in
#: front of the objects where the whole walk sees it (send ``marker_size_m=0.3`` for metres).
SAMPLE_MARKER = FloorMarker(center=np.array([-0.2, 1.45]), side=0.3, yaw=0.3, marker_id=0)


def sample_scene() -> Scene:
    """The bundled sample's scene: ``make_scene()`` with ``SAMPLE_MARKER`` on its floor."""
    scene = make_scene()
    scene.markers = [SAMPLE_MARKER]
    return scene


def sample_ground_truth() -> GroundTruth:
    """Ground truth of ``openstrate_nb/local/data/sample_walkthrough.mp4`` (no rendering)."""
    w, h = SAMPLE_RENDER["width"], SAMPLE_RENDER["height"]
    return GroundTruth(sample_scene(), intrinsics(w, h, SAMPLE_RENDER["hfov_deg"]), w, h,
                       walkthrough_trajectory(**SAMPLE_TRAJECTORY))


def render_sample(path) -> GroundTruth:
    """Re-render the bundled sample video to ``path``."""
    return render_video(path, sample_scene(), walkthrough_trajectory(**SAMPLE_TRAJECTORY), **SAMPLE_RENDER)
