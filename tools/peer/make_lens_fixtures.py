#!/usr/bin/env python3
"""Write crates/camera/tests/fixtures/opencv_lens.json: OpenCV reference values for
the lens models AquaCal calibrations use.

Models: OpenCV standard with 4, 5 and 8 (rational) coefficients
(k1 k2 p1 p2 [k3 [k4 k5 k6]]) and OpenCV fisheye (equidistant, k1..k4).

For each model:
  project:   undistorted normalised (x, y) -> distorted pixel (u, v) from
             cv2.projectPoints (standard) / cv2.fisheye.projectPoints (fisheye), object
             point (x, y, 1), rvec = tvec = 0.
  undistort: distorted pixel (u, v) -> normalised (x, y) from cv2.undistortPointsIter
             (standard) / cv2.fisheye.undistortPoints (fisheye) with
             criteria = (COUNT | EPS, 1000, 1e-15), far more iterations than OpenCV's
             default (5 for standard, 10 for fisheye), so the values are converged.

Every lens's radial map is checked to be increasing out past the image corners.

Usage (from the repository root, with the venv of tools/peer/README.md):
    /work/venv/bin/python tools/peer/make_lens_fixtures.py \
        [--out crates/camera/tests/fixtures/opencv_lens.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 480
CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 1000, 1e-15)

MODELS = [
    {
        "name": "standard4",
        "is_fisheye": False,
        "K": [[600.0, 0.0, 321.5], [0.0, 598.0, 238.25], [0.0, 0.0, 1.0]],
        "dist_coeffs": [-0.38, 0.16, 0.0012, -0.0009],
    },
    {
        "name": "standard5",
        "is_fisheye": False,
        "K": [[560.0, 0.0, 318.0], [0.0, 561.5, 242.0], [0.0, 0.0, 1.0]],
        "dist_coeffs": [-0.45, 0.24, -0.0015, 0.0011, -0.06],
    },
    {
        "name": "rational8",
        "is_fisheye": False,
        "K": [[540.0, 0.0, 322.0], [0.0, 540.0, 239.0], [0.0, 0.0, 1.0]],
        # (1 + k1 r^2 + k2 r^4 + k3 r^6) / (1 + k4 r^2 + k5 r^4 + k6 r^6):
        # about 1 - 0.4 r^2 near the centre; increasing for all r in [0, 3].
        "dist_coeffs": [0.9, 0.3, 0.0009, -0.0012, 0.01, 1.3, 0.5, 0.05],
    },
    {
        "name": "fisheye4",
        "is_fisheye": True,
        "K": [[330.0, 0.0, 319.5], [0.0, 329.0, 240.5], [0.0, 0.0, 1.0]],
        "dist_coeffs": [-0.06, 0.025, -0.008, 0.001],
    },
]


def radial_standard(d: list[float], r: np.ndarray) -> np.ndarray:
    d = list(d) + [0.0] * (8 - len(d))
    k1, k2, _p1, _p2, k3, k4, k5, k6 = d
    r2 = r * r
    num = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    den = 1 + k4 * r2 + k5 * r2**2 + k6 * r2**3
    return r * num / den


def radial_fisheye(d: list[float], theta: np.ndarray) -> np.ndarray:
    k1, k2, k3, k4 = d
    t2 = theta * theta
    return theta * (1 + k1 * t2 + k2 * t2**2 + k3 * t2**3 + k4 * t2**4)


def corner_radius(K: list[list[float]]) -> float:
    """Largest normalised (distorted) radius of the image corners (pixel centres)."""
    fx, fy, cx, cy = K[0][0], K[1][1], K[0][2], K[1][2]
    best = 0.0
    for u in (0.0, WIDTH - 1.0):
        for v in (0.0, HEIGHT - 1.0):
            best = max(best, math.hypot((u - cx) / fx, (v - cy) / fy))
    return best


def check_monotonic(model: dict) -> float:
    """Assert the radial map is increasing until it passes the corner radius (+5 %).
    Returns the undistorted radius (standard: r; fisheye: theta) reaching the corner."""
    target = corner_radius(model["K"]) * 1.05
    if model["is_fisheye"]:
        xs = np.linspace(0.0, math.pi / 2 - 1e-6, 200001)
        ys = radial_fisheye(model["dist_coeffs"], xs)
    else:
        xs = np.linspace(0.0, 5.0, 500001)
        ys = radial_standard(model["dist_coeffs"], xs)
    reach = np.nonzero(ys >= target)[0]
    if len(reach) == 0:
        raise SystemExit(f"{model['name']}: radial map never reaches the corners")
    i = reach[0]
    if not np.all(np.diff(ys[: i + 1]) > 0):
        raise SystemExit(f"{model['name']}: radial map not increasing before the corners")
    return float(xs[i])


def undistort(model: dict, uv: np.ndarray) -> np.ndarray:
    K = np.array(model["K"], dtype=np.float64)
    D = np.array(model["dist_coeffs"], dtype=np.float64)
    src = uv.reshape(-1, 1, 2).astype(np.float64)
    if model["is_fisheye"]:
        out = cv2.fisheye.undistortPoints(src, K, D.reshape(-1, 1), criteria=CRITERIA)
    else:
        out = cv2.undistortPointsIter(src, K, D, None, None, CRITERIA)
    return out.reshape(-1, 2)


def project(model: dict, xy: np.ndarray) -> np.ndarray:
    K = np.array(model["K"], dtype=np.float64)
    D = np.array(model["dist_coeffs"], dtype=np.float64)
    obj = np.concatenate([xy, np.ones((len(xy), 1))], axis=1).reshape(-1, 1, 3)
    if model["is_fisheye"]:
        uv, _ = cv2.fisheye.projectPoints(obj, np.zeros((3, 1)), np.zeros((3, 1)), K, D.reshape(-1, 1))
    else:
        uv, _ = cv2.projectPoints(obj, np.zeros(3), np.zeros(3), K, D)
    return uv.reshape(-1, 2)


def pixel_targets(inset: float) -> np.ndarray:
    """A 5x4 grid over the image, the outer ring `inset` pixels from the edges."""
    us = np.linspace(inset, WIDTH - 1 - inset, 5)
    vs = np.linspace(inset, HEIGHT - 1 - inset, 4)
    return np.array([[u, v] for v in vs for u in us], dtype=np.float64)


def build(model: dict) -> dict:
    check_monotonic(model)
    # project: choose xy whose distorted pixel lands on a grid reaching near the
    # corners (6 px inset), round xy to 6 decimals, then project exactly with cv2.
    xy = np.round(undistort(model, pixel_targets(6.0)), 6)
    uv = project(model, xy)
    # undistort: distorted pixels on a grid 3.5 px from the edges plus a few extras,
    # rounded to 1/8 px so the inputs are exact.
    uv_in = np.concatenate([pixel_targets(3.5), [[model["K"][0][2], model["K"][1][2]], [100.25, 400.75], [555.5, 77.125]]])
    uv_in = np.round(uv_in * 8) / 8
    xy_out = undistort(model, uv_in)
    # Converged? re-project the undistorted result.
    resid = np.abs(project(model, xy_out) - uv_in).max()
    if resid > 1e-6:
        raise SystemExit(f"{model['name']}: undistort residual {resid:.3g} px too large")
    resid_p = np.abs(project(model, undistort(model, uv)) - uv).max()
    if resid_p > 1e-6:
        raise SystemExit(f"{model['name']}: project/undistort round trip {resid_p:.3g} px")
    print(
        f"{model['name']:10s} corner-radius {corner_radius(model['K']):.4f}  "
        f"undistort reproj residual {resid:.2e} px",
        file=sys.stderr,
    )
    return {
        "name": model["name"],
        "is_fisheye": model["is_fisheye"],
        "K": model["K"],
        "dist_coeffs": model["dist_coeffs"],
        "project": [{"xy": [float(a), float(b)], "uv": [float(u), float(v)]} for (a, b), (u, v) in zip(xy, uv)],
        "undistort": [{"uv": [float(u), float(v)], "xy": [float(a), float(b)]} for (u, v), (a, b) in zip(uv_in, xy_out)],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--out", default=str(root / "crates/camera/tests/fixtures/opencv_lens.json"))
    args = ap.parse_args()
    doc = {
        "made_by": (
            "tools/peer/make_lens_fixtures.py; opencv "
            f"{cv2.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}; "
            "project: cv2.projectPoints / cv2.fisheye.projectPoints (rvec=tvec=0, object point (x,y,1)); "
            "undistort: cv2.undistortPointsIter / cv2.fisheye.undistortPoints with "
            "criteria (COUNT|EPS, 1000, 1e-15), R=P=None (normalised output)"
        ),
        "models": [build(m) for m in MODELS],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
