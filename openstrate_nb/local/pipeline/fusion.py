"""Truncated signed distance fusion of depth maps into a block-sparse voxel grid, then meshing.

A dense grid over a room at sub-2 cm voxels would hold tens of millions of voxels and each
depth map would have to visit all of them. Surfaces fill only a thin shell of that volume,
so voxels are stored in small blocks that are allocated where some depth map saw a
surface, and each depth map updates only the blocks its own surface points touch. Outliers
are handled before fusion (multi-view consistency) and after (a minimum
number of observations per voxel), not by carving free space.
"""

from __future__ import annotations

import numpy as np

from .depth import DepthView

BLOCK = 4  # voxels per block edge: small blocks hug the thin band around surfaces (8 did twice the work)


class BlockTSDF:
    def __init__(self, lo: np.ndarray, hi: np.ndarray, voxel: float, trunc_voxels: float = 3.0, threads: int = 1):
        self.threads = max(1, int(threads))
        self.voxel = float(voxel)
        self.trunc = trunc_voxels * self.voxel
        self.fin_limit = 0.98
        self.origin = np.asarray(lo, float)
        span = np.asarray(hi, float) - self.origin
        self.grid = np.maximum(1, np.ceil(span / (voxel * BLOCK)).astype(np.int64))  # blocks per axis
        self.slot = np.full(int(np.prod(self.grid)), -1, np.int64)  # block id -> storage slot
        self.blocks: list[int] = []  # slot -> block id
        cap = 1024
        self.tsdf = np.ones((cap, BLOCK**3), np.float32)
        self.weight = np.zeros((cap, BLOCK**3), np.float32)
        self.count = np.zeros((cap, BLOCK**3), np.uint8)  # depth maps that updated the voxel
        self.color = np.zeros((cap, BLOCK**3, 4), np.float32)  # weighted RGB sum, weight
        o = np.arange(BLOCK)
        self._offsets = np.stack(np.meshgrid(o, o, o, indexing="ij"), -1).reshape(-1, 3)  # voxel within block

    def _allocate(self, block_ids: np.ndarray) -> np.ndarray:
        new = block_ids[self.slot[block_ids] < 0]
        if new.size:
            start = len(self.blocks)
            need = start + new.size
            if need > len(self.tsdf):
                cap = max(need, 2 * len(self.tsdf))
                grow = cap - len(self.tsdf)
                self.tsdf = np.concatenate([self.tsdf, np.ones((grow, BLOCK**3), np.float32)])
                self.weight = np.concatenate([self.weight, np.zeros((grow, BLOCK**3), np.float32)])
                self.count = np.concatenate([self.count, np.zeros((grow, BLOCK**3), np.uint8)])
                self.color = np.concatenate([self.color, np.zeros((grow, BLOCK**3, 4), np.float32)])
            self.slot[new] = np.arange(start, need)
            self.blocks.extend(new.tolist())
        return self.slot[block_ids]

    def _block_ids_near(self, points: np.ndarray, cam_center: np.ndarray) -> np.ndarray:
        """Blocks within the truncation band of ``points`` along their viewing rays."""
        rays = points - cam_center
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        ids = []
        for s in (-1.0, 0.0, 1.0):
            p = points + s * self.trunc * rays
            b = np.floor((p - self.origin) / (self.voxel * BLOCK)).astype(np.int64)
            ok = np.all((b >= 0) & (b < self.grid), axis=1)
            b = b[ok]
            ids.append((b[:, 0] * self.grid[1] + b[:, 1]) * self.grid[2] + b[:, 2])
        return np.unique(np.concatenate(ids))

    def integrate(self, view: DepthView, stride: int = 2) -> None:
        h, w = view.depth.shape
        ys, xs = np.nonzero(view.depth[::stride, ::stride] > 0)
        if ys.size == 0:
            return
        ys, xs = ys * stride, xs * stride
        z = view.depth[ys, xs]
        K, T = view.K, view.world_from_camera
        cam = np.stack([(xs - K[0, 2]) / K[0, 0] * z, (ys - K[1, 2]) / K[1, 1] * z, z], axis=1)
        world = cam @ T[:3, :3].T + T[:3, 3]
        block_ids = self._block_ids_near(world, T[:3, 3])
        if block_ids.size == 0:
            return
        slots = self._allocate(block_ids)
        typical_depth = float(np.median(z))
        # Blocks are independent, so chunks of them update in parallel threads (NumPy releases
        # the GIL in its array loops); each chunk's rows of storage belong to it alone.
        chunks = np.array_split(np.arange(len(block_ids)), max(1, min(self.threads, len(block_ids) // 256)))
        if len(chunks) == 1:
            self._integrate_blocks(view, block_ids, slots, typical_depth)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(chunks)) as pool:
            list(pool.map(lambda c: self._integrate_blocks(view, block_ids[c], slots[c], typical_depth), chunks))

    def _integrate_blocks(self, view: DepthView, block_ids: np.ndarray, slots: np.ndarray,
                          typical_depth: float) -> None:
        h, w = view.depth.shape
        K, T = view.K, view.world_from_camera
        bz = block_ids % self.grid[2]
        by = (block_ids // self.grid[2]) % self.grid[1]
        bx = block_ids // (self.grid[1] * self.grid[2])
        # Work per block row (n_blocks, BLOCK**3): whole-row gathers and scatters are far cheaper
        # than element-wise fancy indexing into the storage.
        base = (self.origin + (np.stack([bx, by, bz], 1) * BLOCK + 0.5) * self.voxel).astype(np.float32)
        cam_from_world = np.linalg.inv(T).astype(np.float32)
        Rc, tc = cam_from_world[:3, :3], cam_from_world[:3, 3]
        off = (self._offsets * self.voxel).astype(np.float32) @ Rc.T  # (BLOCK**3, 3) in camera axes
        cb = base @ Rc.T + tc  # block origins in the camera frame
        pc = cb[:, None, :] + off[None, :, :]  # (n, BLOCK**3, 3)
        vz = pc[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(vz > 1e-6, 1.0 / vz, 0).astype(np.float32)
        fu = pc[..., 0] * inv * K[0, 0] + K[0, 2]
        fv = pc[..., 1] * inv * K[1, 1] + K[1, 2]
        inside = (vz > 1e-6) & (fu >= 0) & (fu < w - 1) & (fv >= 0) & (fv < h - 1)
        fu = np.where(inside, fu, 0)
        fv = np.where(inside, fv, 0)
        u0 = fu.astype(np.int32)
        v0 = fv.astype(np.int32)
        au, av = fu - u0, fv - v0
        dm = view.depth
        d00, d01, d10, d11 = dm[v0, u0], dm[v0, u0 + 1], dm[v0 + 1, u0], dm[v0 + 1, u0 + 1]
        # Bilinear depth where the four pixels belong to one smooth surface: on a floor seen at
        # a grazing angle the depth jumps several centimetres from one pixel to the next, and
        # nearest-pixel lookup would give voxels just below the floor the wrong sign.
        lo4 = np.minimum(np.minimum(d00, d01), np.minimum(d10, d11))
        hi4 = np.maximum(np.maximum(d00, d01), np.maximum(d10, d11))
        smooth = (lo4 > 0) & (hi4 <= lo4 * 1.05)
        d_bil = (d00 * (1 - au) + d01 * au) * (1 - av) + (d10 * (1 - au) + d11 * au) * av
        ui = np.rint(fu).astype(np.int32)
        vi = np.rint(fv).astype(np.int32)
        d = np.where(inside, np.where(smooth, d_bil, dm[vi, ui]), 0)
        sdf = d - vz
        upd = (d > 0) & (sdf > -self.trunc)
        val = np.minimum(1.0, sdf / self.trunc)
        # Near views measure depth more precisely (error grows with z squared): weight them up,
        # relative to the view's typical depth so that every view counts about the same.
        wt = np.where(upd, (typical_depth / np.maximum(vz, 1e-6)) ** 2, 0).astype(np.float32)
        w_old = self.weight[slots]
        w_new = w_old + wt
        tsdf = self.tsdf[slots]
        self.tsdf[slots] = np.where(upd, (tsdf * w_old + val * wt) / np.maximum(w_new, 1e-12), tsdf)
        self.weight[slots] = w_new
        self.count[slots] = np.minimum(self.count[slots].astype(np.int16) + upd, 255).astype(np.uint8)
        near = upd & (np.abs(sdf) < self.trunc)  # only surface voxels take the surface colour
        wn = np.where(near, wt, 0)
        col = self.color[slots]
        col[..., :3] += view.rgb[vi, ui].astype(np.float32) * wn[..., None]
        col[..., 3] += wn
        self.color[slots] = col

    def extract_mesh(self, min_views: int):
        """Marching cubes over the allocated region: (vertices, faces, uint8 colours)."""
        from skimage.measure import marching_cubes

        if not self.blocks:
            return np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.uint8)
        n = len(self.blocks)
        ids = np.asarray(self.blocks)
        bz = ids % self.grid[2]
        by = (ids // self.grid[2]) % self.grid[1]
        bx = ids // (self.grid[1] * self.grid[2])
        bidx = np.stack([bx, by, bz], 1)
        lo = bidx.min(0)
        dims = (bidx.max(0) - lo + 1) * BLOCK + 1  # +1: a layer of unknown voxels closes the far side
        vol = np.ones(dims, np.float32)
        wvol = np.zeros(dims, np.float32)
        vox = ((bidx - lo)[:, None, :] * BLOCK + self._offsets[None]).reshape(-1, 3)
        flat = np.ravel_multi_index(vox.T, dims)
        vol.ravel()[flat] = self.tsdf[:n].ravel()
        wvol.ravel()[flat] = self.count[:n].ravel()
        observed = wvol >= min_views
        vol[~observed] = 1.0
        if not (vol < 0).any():
            return np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.uint8)
        verts, faces, _, _ = marching_cubes(vol, level=0.0, allow_degenerate=False)
        # A vertex sits on a grid edge; both ends must be observed, or the "surface" is just the
        # border between seen and unseen space.
        a = np.floor(verts).astype(np.int64)
        b = np.minimum(np.ceil(verts).astype(np.int64), np.array(dims) - 1)
        good_v = observed[a[:, 0], a[:, 1], a[:, 2]] & observed[b[:, 0], b[:, 1], b[:, 2]]
        # Both ends inside the truncation band: a jump from a clipped +1 (a ray that passed a
        # silhouette and saw the background) to a negative value is a "fin" trailing behind an
        # object's outline, not a surface.
        good_v &= (np.abs(vol[a[:, 0], a[:, 1], a[:, 2]]) < self.fin_limit) & (np.abs(vol[b[:, 0], b[:, 1], b[:, 2]]) < self.fin_limit)
        faces = faces[good_v[faces].all(axis=1)]
        used = np.zeros(len(verts), bool)
        used[faces.ravel()] = True
        verts, faces = verts[used], (np.cumsum(used) - 1)[faces]  # drop vertices no face uses
        a, b = a[used], b[used]
        # Colour: weighted mean colour of the nearer edge end (looked up in block storage).
        near = np.where((verts - a).sum(1)[:, None] < 0.5, a, b) + lo * BLOCK
        bid = ((near[:, 0] // BLOCK) * self.grid[1] + near[:, 1] // BLOCK) * self.grid[2] + near[:, 2] // BLOCK
        off = ((near[:, 0] % BLOCK) * BLOCK + near[:, 1] % BLOCK) * BLOCK + near[:, 2] % BLOCK
        slot = self.slot[np.clip(bid, 0, len(self.slot) - 1)]
        c = np.zeros((len(verts), 4), np.float32)
        has = slot >= 0
        c[has] = self.color[slot[has], off[has]]
        cols = c[:, :3] / np.maximum(c[:, 3:], 1e-6)
        verts_world = self.origin + (verts + (lo * BLOCK)[None, :] + 0.5) * self.voxel
        return verts_world, faces.astype(np.int64), np.clip(cols, 0, 255).astype(np.uint8)
