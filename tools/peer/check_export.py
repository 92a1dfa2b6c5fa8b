#!/usr/bin/env python3
"""Validate an exported AquaMVS project with AquaCal's and AquaMVS's own code.

    python check_export.py PROJECT [--step 8] [--z-tol-mm 0.02] [--px-tol 0.01]

PROJECT holds calibration.json, config.yaml, images/<camera>/frame_000000.png,
ground_truth/scene.json, ground_truth/mesh.ply and ground_truth/depth/<camera>.npy
(float32 H x W ray depth, NaN where no surface).

Checks:
 (a) calibration.json loads with aquacal.io.serialization.load_calibration;
 (b) it loads with AquaMVS's loader (aquamvs.calibration.load_calibration_data) and
     config.yaml with AquaMVS's config model (aquamvs.config.PipelineConfig.from_yaml);
     calibration_path points at PROJECT/calibration.json, output_dir is set, every
     camera_input_map entry is a calibrated camera whose folder exists, every calibrated
     camera has an entry; images and depth maps have the calibrated size;
 (c) for every camera, at every `step`-th pixel (u, v multiples of step) with finite GT
     depth: AquaCal's refracted ray (aquacal.core.refractive_geometry.
     refractive_back_project: origin ON the water surface, unit direction in water; the
     pixel is undistorted first with cv2.undistortPoints through the camera's
     dist_coeffs), point = origin + depth * direction; |point.z - surface(x, y)| from
     ground_truth/scene.json must be <= z-tol (0.02 mm);
 (d) that point projected back with AquaCal's refractive projection
     (aquacal.core.refractive_geometry.refractive_project_batch) must land within
     px-tol (0.01 px) of the pixel.
Prints a per-camera table, then a JSON summary on stdout; exit 0 if every check passes,
1 if one fails, 3 if aquacal/aquamvs/torch are not importable.
AquaMVS is imported without its package __init__ (which demands LightGlue and RoMa v2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys


def unavailable(msg: str) -> "NoReturn":  # noqa: F821
    print(f"peer unavailable: {msg}; see tools/peer/README.md for the venv", file=sys.stderr)
    sys.exit(3)


def import_aquamvs_parts():
    import importlib
    import importlib.util
    import types

    spec = importlib.util.find_spec("aquamvs")
    if spec is None or not spec.submodule_search_locations:
        unavailable("the aquamvs package is not installed")
    root = list(spec.submodule_search_locations)[0]
    if "aquamvs" not in sys.modules:
        mod = types.ModuleType("aquamvs")
        mod.__path__ = [root]
        mod.__package__ = "aquamvs"
        sys.modules["aquamvs"] = mod
    return importlib.import_module("aquamvs.calibration"), importlib.import_module("aquamvs.config")


def surface_fn(scene: dict):
    """Analytic surface z(x, y) of ground_truth/scene.json, or (None, reason)."""
    kind = scene.get("kind")
    base = scene.get("base_z", scene.get("depth_z", scene.get("base_depth_z")))
    cx, cy = (scene.get("center") or [0.0, 0.0])[:2]
    if kind == "flat":
        return (lambda x, y: base + 0.0 * x), None
    if kind == "undulating":
        A, lam = float(scene["amplitude"]), float(scene["wavelength"])
        import numpy as np

        return (lambda x, y: base + A * (np.sin(2 * np.pi * (x - cx) / lam) + np.sin(2 * np.pi * (y - cy) / (1.3 * lam)))), None
    return None, f"scene kind {kind!r} is not known to this checker: surface-height check skipped"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("project")
    ap.add_argument("--step", type=int, default=8)
    ap.add_argument("--z-tol-mm", type=float, default=0.02)
    ap.add_argument("--px-tol", type=float, default=0.01)
    ap.add_argument(
        "--converged-undistortion",
        action="store_true",
        help="make AquaCal's cv2.undistortPoints converge (cv2.undistortPointsIter, 1000 "
        "iterations, 1e-15) instead of OpenCV's default 5 iterations, which leave up to ~1 px "
        "of error at the corners of a strongly distorted lens; AquaCal's model is otherwise "
        "unchanged",
    )
    args = ap.parse_args()
    proj = os.path.abspath(args.project)
    failures: list[str] = []
    notes: list[str] = []

    def fail(msg: str) -> None:
        failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr)

    for rel in ["calibration.json", "config.yaml", "ground_truth/scene.json", "ground_truth/mesh.ply"]:
        if not os.path.isfile(os.path.join(proj, rel)):
            fail(f"missing {rel}")
    if failures:
        print(json.dumps({"project": proj, "ok": False, "failures": failures}, indent=1))
        return 1

    try:
        import numpy as np
        import cv2
        from aquacal.io.serialization import load_calibration
        from aquacal.core.camera import create_camera
        from aquacal.core.interface_model import Interface
        from aquacal.core.refractive_geometry import refractive_back_project, refractive_project_batch
        import torch  # noqa: F401  (AquaMVS's loader needs it)
    except ImportError as e:
        unavailable(f"import failed: {str(e).splitlines()[0]}")
    if args.converged_undistortion:
        import aquacal.core.camera as aq_camera

        plain = cv2.undistortPoints
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 1000, 1e-15)

        def converged(pts, K, D, R=None, P=None):
            return cv2.undistortPointsIter(pts, K, D, R, P, crit)

        aq_camera.cv2 = type("cv2", (), {"__getattr__": lambda self, n: getattr(cv2, n)})()
        aq_camera.cv2.undistortPoints = converged
        notes.append("AquaCal's cv2.undistortPoints made to converge (--converged-undistortion)")
        del plain
    try:
        mvs_calib, mvs_config = import_aquamvs_parts()
    except ImportError as e:
        unavailable(f"aquamvs import failed: {str(e).splitlines()[0]}")

    calib_path = os.path.join(proj, "calibration.json")
    # (a) AquaCal
    try:
        result = load_calibration(calib_path)
    except Exception as e:  # noqa: BLE001
        fail(f"aquacal load_calibration: {type(e).__name__}: {e}")
        print(json.dumps({"project": proj, "ok": False, "failures": failures}, indent=1))
        return 1
    # (b) AquaMVS
    try:
        mvs = mvs_calib.load_calibration_data(calib_path)
        if set(mvs.cameras) != set(result.cameras):
            fail("AquaMVS and AquaCal see different camera sets")
    except Exception as e:  # noqa: BLE001
        fail(f"aquamvs load_calibration_data: {type(e).__name__}: {e}")
        mvs = None
    water_zs = {n: c.water_z for n, c in result.cameras.items()}
    if len(set(water_zs.values())) != 1:
        notes.append(f"water_z differs per camera {water_zs}; AquaMVS uses the first camera's for all")
    config_info: dict = {}
    try:
        cfg = mvs_config.PipelineConfig.from_yaml(os.path.join(proj, "config.yaml"))

        def resolve(p: str) -> str:
            return p if os.path.isabs(p) else os.path.join(proj, p)

        cp = resolve(cfg.calibration_path) if cfg.calibration_path else ""
        if not cp or not os.path.isfile(cp) or not os.path.samefile(cp, calib_path):
            fail(f"config.yaml calibration_path {cfg.calibration_path!r} does not resolve to {calib_path}")
        if not cfg.output_dir:
            fail("config.yaml output_dir is empty")
        for cam, p in cfg.camera_input_map.items():
            if cam not in result.cameras:
                fail(f"camera_input_map has {cam!r}, which is not in calibration.json")
            if not os.path.exists(resolve(p)):
                fail(f"camera_input_map[{cam!r}] = {p!r} does not exist")
        for cam in result.cameras:
            if cam not in cfg.camera_input_map:
                fail(f"calibrated camera {cam!r} has no camera_input_map entry")
        relative = [p for p in [cfg.calibration_path, cfg.output_dir, *cfg.camera_input_map.values()] if p and not os.path.isabs(p)]
        if relative:
            notes.append("config.yaml has relative paths; AquaMVS resolves them against the working directory, so run it from PROJECT")
        config_info = {
            "calibration_path": cfg.calibration_path,
            "output_dir": cfg.output_dir,
            "cameras": sorted(cfg.camera_input_map),
            "num_depths": cfg.reconstruction.num_depths,
            "window_size": cfg.reconstruction.window_size,
        }
    except Exception as e:  # noqa: BLE001
        fail(f"aquamvs PipelineConfig.from_yaml: {type(e).__name__}: {str(e).splitlines()[0]}")

    with open(os.path.join(proj, "ground_truth", "scene.json")) as f:
        scene = json.load(f)
    surf, why = surface_fn(scene)
    if why:
        notes.append(why)
        print(why, file=sys.stderr)

    iface = Interface(normal=result.interface.normal, camera_distances=water_zs, n_air=result.interface.n_air, n_water=result.interface.n_water)
    rows = []
    z_tol = args.z_tol_mm * 1e-3
    for name in sorted(result.cameras):
        cal = result.cameras[name]
        w, h = cal.intrinsics.image_size
        row = {"camera": name, "auxiliary": bool(cal.is_auxiliary), "pixels": 0, "max_dz_mm": None, "max_dpx": None, "ok": True}
        img_path = os.path.join(proj, "images", name, "frame_000000.png")
        img = cv2.imread(img_path, cv2.IMREAD_UNCHANGED)
        if img is None:
            fail(f"{name}: cannot read {img_path}")
            row["ok"] = False
        elif img.shape[:2] != (h, w):
            fail(f"{name}: image {img.shape[1]}x{img.shape[0]} != image_size {w}x{h}")
            row["ok"] = False
        dpath = os.path.join(proj, "ground_truth", "depth", f"{name}.npy")
        if not os.path.isfile(dpath):
            fail(f"{name}: missing ground_truth/depth/{name}.npy")
            row["ok"] = False
            rows.append(row)
            continue
        depth = np.load(dpath)
        if depth.dtype != np.float32 or depth.shape != (h, w):
            fail(f"{name}: depth map {depth.dtype} {depth.shape}, want float32 ({h}, {w})")
            row["ok"] = False
            rows.append(row)
            continue
        if np.any(cal.intrinsics.dist_coeffs != 0):
            notes.append(f"{name}: nonzero dist_coeffs; AquaCal undistorts each pixel with cv2.undistortPoints (default 5 iterations)")
        cam = create_camera(name, cal.intrinsics, cal.extrinsics)
        pts, pix = [], []
        for v in range(0, h, args.step):
            for u in range(0, w, args.step):
                d = float(depth[v, u])
                if not math.isfinite(d):
                    continue
                o, dirn = refractive_back_project(cam, iface, np.array([u, v], dtype=np.float64))
                if o is None:
                    fail(f"{name}: AquaCal cannot cast pixel ({u}, {v})")
                    row["ok"] = False
                    continue
                pts.append(o + d * dirn)
                pix.append((u, v))
        row["pixels"] = len(pts)
        if not pts:
            notes.append(f"{name}: no finite ground-truth depth on the sampled grid")
            rows.append(row)
            continue
        pts = np.array(pts)
        pix = np.array(pix, dtype=np.float64)
        if surf is not None:
            dz = np.abs(pts[:, 2] - surf(pts[:, 0], pts[:, 1]))
            row["max_dz_mm"] = float(dz.max() * 1e3)
            row["dz_within_tol_pct"] = float(100.0 * (dz <= z_tol).mean())
            if dz.max() > z_tol:
                k = int(dz.argmax())
                fail(f"{name}: |dz| {dz.max() * 1e3:.4f} mm > {args.z_tol_mm} mm at pixel {pix[k].tolist()}")
                row["ok"] = False
        back = refractive_project_batch(cam, iface, pts)
        bad = ~np.isfinite(back).all(axis=1)
        if bad.any():
            fail(f"{name}: {int(bad.sum())} points do not project back (first at pixel {pix[bad][0].tolist()})")
            row["ok"] = False
        dpx = np.linalg.norm(np.where(bad[:, None], 0.0, back - pix), axis=1)
        row["max_dpx"] = float(dpx.max())
        row["dpx_within_tol_pct"] = float(100.0 * (dpx <= args.px_tol).mean())
        if dpx.max() > args.px_tol:
            k = int(dpx.argmax())
            fail(f"{name}: reprojection {dpx.max():.5f} px > {args.px_tol} px at pixel {pix[k].tolist()}")
            row["ok"] = False
        rows.append(row)

    print(f"{'camera':10s} {'aux':>3s} {'pixels':>7s} {'max|dz| mm':>11s} {'max dpx':>10s}  ok", file=sys.stderr)
    for r in rows:
        dz = "-" if r["max_dz_mm"] is None else f"{r['max_dz_mm']:.6f}"
        dp = "-" if r["max_dpx"] is None else f"{r['max_dpx']:.2e}"
        print(f"{r['camera']:10s} {'y' if r['auxiliary'] else 'n':>3s} {r['pixels']:7d} {dz:>11s} {dp:>10s}  {'ok' if r['ok'] else 'FAIL'}", file=sys.stderr)
    from importlib.metadata import version

    summary = {
        "project": proj,
        "ok": not failures,
        "aquacal_version": version("aquacal"),
        "aquamvs_version": version("aquamvs"),
        "scene_kind": scene.get("kind"),
        "step": args.step,
        "z_tol_mm": args.z_tol_mm,
        "px_tol": args.px_tol,
        "water_z": (mvs.water_z if mvs is not None else None),
        "config": config_info,
        "cameras": rows,
        "notes": sorted(set(notes)),
        "failures": failures,
    }
    print(json.dumps(summary, indent=1))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
