#!/usr/bin/env python3
"""Write crates/io/tests/fixtures/aquacal_grid_rig.json with AquaCal's own serializer
(aquacal.io.serialization.save_calibration over AquaCal's dataclasses from
aquacal.config.schema), for a rig unlike the workspace's reference rig.

The rig (all numbers are independent of the reference rig):
  * 6 primary cameras cam00..cam05, UNTILTED (R = identity: camera +Z = world +Z, down
    into the water; camera +X = world +X; camera +Y = world +Y), in a 3 x 2 grid with
    0.25 m spacing, centres C = (0.25 i, 0.25 j, 0) for i = 0..2, j = 0..1; cam00 sits at
    the world origin. t = -R C.
  * water_z = 0.72 m for every camera; interface normal [0, 0, -1], n_air 1.0,
    n_water 1.333.
  * image_size [640, 480] (width, height); focal length about 560 px.
  * strong, per-camera lens distortion: cam00, cam03, cam05 OpenCV 5-coefficient;
    cam01, cam04 8-coefficient rational; cam02 4-coefficient.
  * one auxiliary camera aux00 (is_auxiliary true) with the OpenCV fisheye model
    (is_fisheye true, 4 coefficients), 640 x 480, untilted, 5 cm above the grid centre.

Checks: each lens's radial map is increasing out past the normalised radius of the
image corners; every camera sees (AquaCal refractive projection, with distortion) the
3 x 3 patch of points at +-0.1 m around the grid centre at Z = water_z + 0.2; the file
reloads with aquacal.io.serialization.load_calibration and round-trips exactly.

Usage (repository root, venv of tools/peer/README.md):
    /work/venv/bin/python tools/peer/make_aquacal_rig.py \
        [--out crates/io/tests/fixtures/aquacal_grid_rig.json]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from aquacal.config.schema import (
    BoardConfig,
    CalibrationMetadata,
    CalibrationResult,
    CameraCalibration,
    CameraExtrinsics,
    CameraIntrinsics,
    DiagnosticsData,
    InterfaceParams,
)
from aquacal.core.camera import create_camera
from aquacal.core.interface_model import Interface
from aquacal.core.refractive_geometry import refractive_project
from aquacal.io.serialization import load_calibration, save_calibration

# ---- the numbers of this rig -------------------------------------------------------
WATER_Z = 0.72
N_AIR, N_WATER = 1.0, 1.333
IMAGE_SIZE = (640, 480)  # (width, height)
SPACING = 0.25
GRID_CENTRE = (0.25, 0.125)
TARGET_DEPTH_BELOW_SURFACE = 0.2  # the region every camera must see: Z = 0.92
AUX_CENTRE = (0.25, 0.125, -0.05)

# name: (fx, fy, cx, cy, dist_coeffs)
LENSES = {
    "cam00": (560.0, 560.0, 319.5, 239.5, [-0.42, 0.21, 0.0008, -0.0011, -0.04]),
    "cam01": (558.0, 559.0, 322.0, 241.0, [0.9, 0.3, 0.0009, -0.0012, 0.01, 1.3, 0.5, 0.05]),
    "cam02": (562.0, 561.0, 318.0, 238.0, [-0.36, 0.15, -0.0007, 0.0005]),
    "cam03": (555.0, 556.0, 320.5, 237.5, [-0.48, 0.27, 0.0012, 0.0006, -0.07]),
    "cam04": (565.0, 564.0, 317.0, 243.0, [0.45, 0.05, -0.0010, 0.0008, 0.002, 0.85, 0.2, 0.01]),
    "cam05": (559.0, 559.5, 321.0, 240.0, [-0.30, 0.09, 0.0004, -0.0009, 0.0]),
}
AUX_LENS = ("aux00", (320.0, 320.5, 319.5, 240.5, [-0.05, 0.018, -0.006, 0.0008]))

BOARD = BoardConfig(squares_x=12, squares_y=9, square_size=0.04, marker_size=0.03, dictionary="DICT_5X5_100")
METADATA = CalibrationMetadata(
    calibration_date="2025-01-01T00:00:00",
    software_version="2.1.0",
    config_hash="aquamvs-rs-grid-rig-fixture",
    num_frames_used=120,
    num_frames_holdout=30,
    seed=42,
)


def radial_ok(is_fisheye: bool, d: list[float], fx: float, fy: float, cx: float, cy: float) -> bool:
    """Radial map increasing until it passes the corners' normalised radius (+5 %)."""
    w, h = IMAGE_SIZE
    target = 1.05 * max(math.hypot((u - cx) / fx, (v - cy) / fy) for u in (0, w - 1) for v in (0, h - 1))
    if is_fisheye:
        k1, k2, k3, k4 = d
        x = np.linspace(0.0, math.pi / 2 - 1e-6, 100001)
        t2 = x * x
        y = x * (1 + k1 * t2 + k2 * t2**2 + k3 * t2**3 + k4 * t2**4)
    else:
        k = list(d) + [0.0] * (8 - len(d))
        k1, k2, _, _, k3, k4, k5, k6 = k
        x = np.linspace(0.0, 5.0, 200001)
        r2 = x * x
        y = x * (1 + k1 * r2 + k2 * r2**2 + k3 * r2**3) / (1 + k4 * r2 + k5 * r2**2 + k6 * r2**3)
    reach = np.nonzero(y >= target)[0]
    return len(reach) > 0 and bool(np.all(np.diff(y[: reach[0] + 1]) > 0))


def camera(name: str, lens: tuple, centre: tuple[float, float, float], *, fisheye: bool = False, aux: bool = False) -> CameraCalibration:
    fx, fy, cx, cy, d = lens
    if not radial_ok(fisheye, d, fx, fy, cx, cy):
        raise SystemExit(f"{name}: radial distortion map not increasing out to the corners")
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=np.float64)
    R = np.eye(3, dtype=np.float64)
    t = -R @ np.array(centre, dtype=np.float64)  # shape (3,), as AquaCal's pipeline writes it
    return CameraCalibration(
        name=name,
        intrinsics=CameraIntrinsics(K=K, dist_coeffs=np.array(d, dtype=np.float64), image_size=IMAGE_SIZE, is_fisheye=fisheye),
        extrinsics=CameraExtrinsics(R=R, t=t + 0.0),  # + 0.0 turns -0.0 into 0.0
        water_z=WATER_Z,
        is_auxiliary=aux,
    )


def build() -> CalibrationResult:
    cams: dict[str, CameraCalibration] = {}
    names = sorted(LENSES)
    for k, name in enumerate(names):
        i, j = k % 3, k // 3
        cams[name] = camera(name, LENSES[name], (SPACING * i, SPACING * j, 0.0))
    aux_name, aux_lens = AUX_LENS
    cams[aux_name] = camera(aux_name, aux_lens, AUX_CENTRE, fisheye=True, aux=True)
    per_cam = {n: round(0.21 + 0.02 * k, 4) for k, n in enumerate(names)}
    diagnostics = DiagnosticsData(
        reprojection_error_rms=0.27,
        reprojection_error_per_camera=per_cam,
        validation_3d_error_mean=0.00041,
        validation_3d_error_std=0.00017,
    )
    return CalibrationResult(
        cameras=cams,
        interface=InterfaceParams(normal=np.array([0.0, 0.0, -1.0]), n_air=N_AIR, n_water=N_WATER),
        board=BOARD,
        diagnostics=diagnostics,
        metadata=METADATA,
    )


def check_visibility(result: CalibrationResult) -> None:
    z = WATER_Z + TARGET_DEPTH_BELOW_SURFACE
    iface = Interface(
        normal=result.interface.normal,
        camera_distances={n: c.water_z for n, c in result.cameras.items()},
        n_air=result.interface.n_air,
        n_water=result.interface.n_water,
    )
    w, h = IMAGE_SIZE
    for name, cal in result.cameras.items():
        cam = create_camera(name, cal.intrinsics, cal.extrinsics)
        worst = []
        for dx in (-0.1, 0.0, 0.1):
            for dy in (-0.1, 0.0, 0.1):
                p = np.array([GRID_CENTRE[0] + dx, GRID_CENTRE[1] + dy, z])
                px = refractive_project(cam, iface, p)
                if px is None or not (0 <= px[0] <= w - 1 and 0 <= px[1] <= h - 1):
                    raise SystemExit(f"{name} does not see {p.tolist()} (pixel {px})")
                worst.append(px)
        worst = np.array(worst)
        print(
            f"{name}: sees the patch around the grid centre at Z={z:.2f}; pixels u {worst[:, 0].min():.1f}..{worst[:, 0].max():.1f},"
            f" v {worst[:, 1].min():.1f}..{worst[:, 1].max():.1f}",
            file=sys.stderr,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--out", default=str(root / "crates/io/tests/fixtures/aquacal_grid_rig.json"))
    args = ap.parse_args()
    result = build()
    check_visibility(result)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_calibration(result, out)
    back = load_calibration(out)
    for name, cal in result.cameras.items():
        b = back.cameras[name]
        assert np.array_equal(b.intrinsics.K, cal.intrinsics.K)
        assert np.array_equal(b.intrinsics.dist_coeffs, cal.intrinsics.dist_coeffs)
        assert tuple(b.intrinsics.image_size) == tuple(cal.intrinsics.image_size)
        assert b.intrinsics.is_fisheye == cal.intrinsics.is_fisheye
        assert np.array_equal(b.extrinsics.R, cal.extrinsics.R)
        assert np.array_equal(b.extrinsics.t, cal.extrinsics.t)
        assert b.water_z == cal.water_z and b.is_auxiliary == cal.is_auxiliary
    print(f"wrote {out}; reloaded with aquacal.io.serialization.load_calibration: {len(back.cameras)} cameras OK", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
