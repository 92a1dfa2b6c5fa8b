#!/usr/bin/env python3
"""Peer runner: AquaMVS's OWN plane sweep (its PyTorch code) for one reference view.

    python aquamvs_sweep.py --job JOB.json --out OUTDIR
    python aquamvs_sweep.py --job JOB.json --check

JOB.json:
    {"project": "/abs/PROJECT", "reference": "cam00", "sources": ["cam01", ...],
     "depth_min": m, "depth_max": m, "num_depths": 64, "window": 11,
     "threads": 2, "repeats": 3}
    optional: "warmup": N  (untimed sweeps run before the timed repeats; default 0)

PROJECT is an AquaMVS project folder: PROJECT/calibration.json (AquaCal format 1.0),
PROJECT/images/<camera>/frame_000000.png, optional PROJECT/config.yaml.

What runs (all AquaMVS 1.7 code, imported WITHOUT the package __init__, which insists on
LightGlue and RoMa v2):
  * aquamvs.calibration.load_calibration_data           (AquaMVS's calibration loader,
                                                          itself on aquacal.io.serialization)
  * aquamvs.calibration.compute_undistortion_maps / undistort_image   (as the pipeline's
    build_pipeline_context does; K_new = K and identity maps when there is no distortion)
  * aquamvs.projection.refractive.RefractiveProjectionModel(K_new, R, t, water_z, normal,
    n_air, n_water)                                      (one per camera)
  * aquamvs.config.PipelineConfig.from_yaml(PROJECT/config.yaml) (or defaults), with
    reconstruction.num_depths / window_size / cost_function="ncc" set from the job
  * aquamvs.dense.plane_sweep.plane_sweep_stereo(...) -> cost volume (H, W, D), depths
    from generate_depth_hypotheses = torch.linspace(depth_min, depth_max, num_depths)
  * aquamvs.dense.plane_sweep.extract_depth(cost_volume, depths) -> ray depth, NaN at the
    first/last hypothesis.
The timed part of each repeat is plane_sweep_stereo + extract_depth (wall clock); file
loading, calibration and model set-up are not timed. Time on an otherwise idle machine:
torch's OpenMP threads spin-wait, so a concurrent build on a 2-core machine made single
repeats up to 15x slower (measured: 2.2 s idle vs 33.9 s under a cargo build, 320x240x32x4).

Writes OUTDIR/depth.npy (float32 H x W ray depth in metres, NaN where invalid) and
OUTDIR/peer.json. Exit codes: 0 ok, 2 bad job (one line on stderr), 3 peer unavailable
(one line on stderr starting with "peer unavailable:").
"""

from __future__ import annotations

import argparse
import json
import os
import sys

REQUIRED = {
    "project": str,
    "reference": str,
    "sources": list,
    "depth_min": (int, float),
    "depth_max": (int, float),
    "num_depths": int,
    "window": int,
    "threads": int,
    "repeats": int,
}

INSTALL_HINT = (
    "install into a venv: pip install torch --index-url https://download.pytorch.org/whl/cpu "
    "(or plain 'pip install torch'); pip install 'aquacal==2.1.*' numpy "
    "pyyaml pydantic scipy tqdm tabulate; pip install --no-deps 'aquamvs==1.7.*' "
    "(see tools/peer/README.md)"
)


def bad_job(msg: str) -> "NoReturn":  # noqa: F821
    print(f"bad job: {msg}", file=sys.stderr)
    sys.exit(2)


def unavailable(msg: str) -> "NoReturn":  # noqa: F821
    print(f"peer unavailable: {msg}; {INSTALL_HINT}", file=sys.stderr)
    sys.exit(3)


def load_job(path: str) -> dict:
    try:
        with open(path) as f:
            job = json.load(f)
    except FileNotFoundError:
        bad_job(f"{path}: no such file")
    except (OSError, ValueError) as e:
        bad_job(f"{path}: {str(e).splitlines()[0]}")
    if not isinstance(job, dict):
        bad_job(f"{path}: not a JSON object")
    for key, typ in REQUIRED.items():
        if key not in job:
            bad_job(f"missing field '{key}'")
        val = job[key]
        if isinstance(val, bool) or not isinstance(val, typ):
            bad_job(f"field '{key}' has the wrong type ({type(val).__name__})")
    if not os.path.isabs(job["project"]):
        bad_job(f"'project' must be an absolute path, got {job['project']!r}")
    if not os.path.isdir(job["project"]):
        bad_job(f"project folder {job['project']} does not exist")
    calib = os.path.join(job["project"], "calibration.json")
    if not os.path.isfile(calib):
        bad_job(f"{calib} does not exist")
    if not job["reference"]:
        bad_job("'reference' is empty")
    if not job["sources"]:
        bad_job("'sources' is empty")
    for s in job["sources"]:
        if not isinstance(s, str) or not s:
            bad_job("'sources' must be a list of camera names")
    if job["reference"] in job["sources"]:
        bad_job("the reference camera is also listed as a source")
    if len(set(job["sources"])) != len(job["sources"]):
        bad_job("'sources' lists a camera twice")
    for cam in [job["reference"], *job["sources"]]:
        img = image_path(job["project"], cam)
        if not os.path.isfile(img):
            bad_job(f"image {img} does not exist")
    import math

    dmin, dmax = float(job["depth_min"]), float(job["depth_max"])
    if not (math.isfinite(dmin) and math.isfinite(dmax)) or dmin <= 0 or dmax <= dmin:
        bad_job(f"need 0 < depth_min < depth_max, got {dmin} .. {dmax}")
    if job["num_depths"] < 3:
        bad_job(f"'num_depths' must be >= 3, got {job['num_depths']}")
    if job["window"] < 1 or job["window"] % 2 == 0:
        bad_job(f"'window' must be a positive odd number, got {job['window']}")
    if job["threads"] < 1:
        bad_job(f"'threads' must be >= 1, got {job['threads']}")
    if job["repeats"] < 1:
        bad_job(f"'repeats' must be >= 1, got {job['repeats']}")
    warm = job.setdefault("warmup", 0)
    if isinstance(warm, bool) or not isinstance(warm, int) or warm < 0:
        bad_job(f"'warmup' must be an integer >= 0, got {warm!r}")
    return job


def image_path(project: str, cam: str) -> str:
    return os.path.join(project, "images", cam, "frame_000000.png")


def importable() -> dict[str, str | None]:
    """Which packages can be imported (find_spec only: nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version
    from importlib.util import find_spec

    out: dict[str, str | None] = {}
    for mod, dist in [("numpy", "numpy"), ("cv2", None), ("yaml", "PyYAML"), ("pydantic", "pydantic"),
                      ("scipy", "scipy"), ("tqdm", "tqdm"), ("torch", "torch"), ("aquacal", "aquacal"),
                      ("aquamvs", "aquamvs")]:
        try:
            spec = find_spec(mod)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            out[mod] = None
            continue
        ver = "present"
        for d in ([dist] if dist else ["opencv-python", "opencv-python-headless", "opencv-contrib-python"]):
            try:
                ver = version(d)
                break
            except PackageNotFoundError:
                pass
        out[mod] = ver
    return out


def import_aquamvs_parts():
    """Import the AquaMVS modules the sweep needs without running aquamvs/__init__.py
    (which raises without LightGlue and RoMa v2) nor aquamvs/dense/__init__.py (which
    imports roma_depth -> romav2): bare package objects are registered in sys.modules
    with __path__ pointing at the installed folders, then submodules import normally."""
    import importlib
    import importlib.util
    import types

    spec = importlib.util.find_spec("aquamvs")
    if spec is None or not spec.submodule_search_locations:
        unavailable("the aquamvs package is not installed")
    root = list(spec.submodule_search_locations)[0]
    for name, path in [("aquamvs", root), ("aquamvs.dense", os.path.join(root, "dense"))]:
        if name not in sys.modules:
            mod = types.ModuleType(name)
            mod.__path__ = [path]
            mod.__package__ = name
            mod.__file__ = os.path.join(path, "__init__.py")
            sys.modules[name] = mod
    mods = {}
    for sub in ["config", "calibration", "projection.refractive", "dense.plane_sweep"]:
        mods[sub] = importlib.import_module(f"aquamvs.{sub}")
    return mods


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--job", required=True, help="job JSON")
    ap.add_argument("--out", help="output folder (depth.npy, peer.json)")
    ap.add_argument("--check", action="store_true", help="validate the job and report importable packages only")
    args = ap.parse_args()
    job = load_job(args.job)

    avail = importable()
    missing = [m for m in ("numpy", "cv2", "yaml", "pydantic", "torch", "aquacal", "aquamvs") if avail[m] is None]
    if args.check:
        print(json.dumps({"job": "ok", "packages": avail}, indent=1))
        if missing:
            unavailable("missing python packages: " + ", ".join(missing))
        return 0
    if not args.out:
        bad_job("--out is required unless --check is given")
    if missing:
        unavailable("missing python packages: " + ", ".join(missing))

    # ---- heavy imports only from here on -------------------------------------------
    try:
        import numpy as np
        import cv2
        import torch

        torch.set_num_threads(job["threads"])
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        mods = import_aquamvs_parts()
    except ImportError as e:
        unavailable(f"import failed: {str(e).splitlines()[0]}")
    import platform
    import time
    from importlib.metadata import version

    config_mod = mods["config"]
    calib_mod = mods["calibration"]
    RefractiveProjectionModel = mods["projection.refractive"].RefractiveProjectionModel
    ps = mods["dense.plane_sweep"]

    project = job["project"]
    cams = [job["reference"], *job["sources"]]
    calibration = calib_mod.load_calibration_data(os.path.join(project, "calibration.json"))
    for cam in cams:
        if cam not in calibration.cameras:
            bad_job(f"camera {cam!r} is not in {project}/calibration.json")
    if job["reference"] in calibration.auxiliary_cameras:
        print(f"note: reference {job['reference']} is an auxiliary camera (AquaMVS never uses one as a reference)", file=sys.stderr)

    cfg_path = os.path.join(project, "config.yaml")
    config = config_mod.PipelineConfig.from_yaml(cfg_path) if os.path.isfile(cfg_path) else config_mod.PipelineConfig()
    recon = config.reconstruction.model_copy(
        update={"num_depths": job["num_depths"], "window_size": job["window"], "cost_function": "ncc"}
    )

    models, images = {}, {}
    for cam in cams:
        cd = calibration.cameras[cam]
        und = calib_mod.compute_undistortion_maps(cd)
        if bool((cd.dist_coeffs != 0).any()):
            print(f"note: {cam} has lens distortion; AquaMVS undistorts its image to K_new "
                  f"{und.K_new.numpy().round(3).tolist()} (the depth map uses that grid)", file=sys.stderr)
        bgr = cv2.imread(image_path(project, cam), cv2.IMREAD_COLOR)
        if bgr is None:
            bad_job(f"cannot read {image_path(project, cam)}")
        w, h = cd.image_size
        if bgr.shape[:2] != (h, w):
            bad_job(f"{cam}: image is {bgr.shape[1]}x{bgr.shape[0]}, calibration says {w}x{h}")
        images[cam] = torch.from_numpy(calib_mod.undistort_image(bgr, und))
        models[cam] = RefractiveProjectionModel(
            K=und.K_new, R=cd.R, t=cd.t, water_z=calibration.water_z, normal=calibration.interface_normal,
            n_air=calibration.n_air, n_water=calibration.n_water,
        ).to("cpu")
    H, W = images[job["reference"]].shape[:2]

    seconds = []
    depth = None
    for i in range(job["warmup"] + job["repeats"]):
        t0 = time.perf_counter()
        res = ps.plane_sweep_stereo(
            ref_name=job["reference"], ref_model=models[job["reference"]], src_names=job["sources"],
            src_models=models, ref_image=images[job["reference"]], src_images=images,
            depth_range=(float(job["depth_min"]), float(job["depth_max"])), config=recon, device="cpu",
        )
        depth_t, _conf = ps.extract_depth(res["cost_volume"], res["depths"])
        if i >= job["warmup"]:
            seconds.append(time.perf_counter() - t0)
        depth = depth_t.numpy().astype(np.float32)
        del res

    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "depth.npy"), depth)
    med = sorted(seconds)[len(seconds) // 2] if len(seconds) % 2 else sum(sorted(seconds)[len(seconds) // 2 - 1: len(seconds) // 2 + 1]) / 2
    samples = W * H * job["num_depths"] * len(job["sources"])
    peer = {
        "aquamvs_version": version("aquamvs"),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "threads": job["threads"],
        "warmup": job["warmup"],
        "seconds": seconds,
        "median_seconds": med,
        "samples": samples,
        "samples_per_s": samples / med,
        "reference": job["reference"],
        "sources": job["sources"],
        "num_depths": job["num_depths"],
        "window": job["window"],
        "depth_min": float(job["depth_min"]),
        "depth_max": float(job["depth_max"]),
    }
    with open(os.path.join(args.out, "peer.json"), "w") as f:
        json.dump(peer, f, indent=1)
        f.write("\n")
    print(json.dumps({k: peer[k] for k in ("median_seconds", "samples_per_s")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
