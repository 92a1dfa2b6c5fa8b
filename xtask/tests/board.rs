//! `cargo xtask board` recomputed independently: every metric in `board.json` is computed again
//! from the files the command wrote — the depth maps (`depth/<camera>.npy`), the corner lists
//! (`corners.json`), the rig (`scene/rig.json`) and the board (`scene/scene.json`) — by code
//! written here, apart from `aquamvs_board::metrics`: its own bilinear read, its own plane fit
//! (SVD of the centred points), its own similarity (Horn's quaternion method, not Umeyama's
//! SVD), its own range/lateral split. Only the refractive camera model (`aquamvs_camera`:
//! casting and projecting rays) is shared. Every figure must agree within 1 %.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use aquamvs_camera::{Camera, Rig, RigFile};
use nalgebra::{Matrix3, Matrix4, Point3, Vector3};
use serde_json::Value;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Bilinear read at (u, v), pixel centres at integers; `None` if a neighbour with a non-zero
/// weight is NaN or off the map.
fn read_depth(map: &[f32], w: usize, h: usize, u: f64, v: f64) -> Option<f64> {
    let (x0, y0) = (u.floor(), v.floor());
    let (ax, ay) = (u - x0, v - y0);
    let mut acc = 0.0;
    for (dx, wx) in [(0.0, 1.0 - ax), (1.0, ax)] {
        for (dy, wy) in [(0.0, 1.0 - ay), (1.0, ay)] {
            if wx * wy == 0.0 {
                continue;
            }
            let (x, y) = (x0 + dx, y0 + dy);
            if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                return None;
            }
            let d = map[y as usize * w + x as usize];
            if d.is_nan() {
                return None;
            }
            acc += wx * wy * f64::from(d);
        }
    }
    Some(acc)
}

/// One transferred corner.
struct Obs {
    id: usize,
    point: Vector3<f64>,
    ray: Vector3<f64>,
    exact: Vector3<f64>,
}

fn rms_mm(values: &[f64]) -> f64 {
    (values.iter().map(|v| v * v).sum::<f64>() / values.len() as f64).sqrt() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Horn's closed-form rotation taking the centred `a` onto the centred `b` (unit quaternion:
/// the top eigenvector of his 4×4 matrix), then the scale `Σ b·Ra / Σ |a|²`.
fn horn_similarity(a: &[Vector3<f64>], b: &[Vector3<f64>]) -> (Matrix3<f64>, f64) {
    let mut m = Matrix3::zeros();
    for (p, q) in a.iter().zip(b) {
        m += p * q.transpose();
    }
    let (sxx, sxy, sxz) = (m[(0, 0)], m[(0, 1)], m[(0, 2)]);
    let (syx, syy, syz) = (m[(1, 0)], m[(1, 1)], m[(1, 2)]);
    let (szx, szy, szz) = (m[(2, 0)], m[(2, 1)], m[(2, 2)]);
    #[rustfmt::skip]
    let n = Matrix4::new(
        sxx + syy + szz, syz - szy,        szx - sxz,        sxy - syx,
        syz - szy,       sxx - syy - szz,  sxy + syx,        szx + sxz,
        szx - sxz,       sxy + syx,        -sxx + syy - szz, syz + szy,
        sxy - syx,       szx + sxz,        syz + szy,        -sxx - syy + szz,
    );
    let eig = n.symmetric_eigen();
    let q = eig.eigenvectors.column(eig.eigenvalues.imax()).into_owned();
    let (w, x, y, z) = (q[0], q[1], q[2], q[3]);
    #[rustfmt::skip]
    let r = Matrix3::new(
        w * w + x * x - y * y - z * z, 2.0 * (x * y - w * z),         2.0 * (x * z + w * y),
        2.0 * (x * y + w * z),         w * w - x * x + y * y - z * z, 2.0 * (y * z - w * x),
        2.0 * (x * z - w * y),         2.0 * (y * z + w * x),         w * w - x * x - y * y + z * z,
    );
    let num: f64 = a.iter().zip(b).map(|(p, q)| q.dot(&(r * p))).sum();
    let den: f64 = a.iter().map(|p| p.norm_squared()).sum();
    (r, num / den)
}

/// Residual split: along the unit ray, and the length of the rest.
fn split(r: &Vector3<f64>, ray: &Vector3<f64>) -> (f64, f64) {
    let along = r.dot(ray);
    (along, (r - ray * along).norm())
}

#[derive(Default)]
struct Sums {
    flat: Vec<f64>,
    cross: Vec<f64>,
    range: Vec<f64>,
    lateral: Vec<f64>,
    abs: Vec<f64>,
    scales: Vec<f64>,
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 0.01 * want.abs() + 1e-9,
        "{what}: board.json says {want}, recomputed {got}"
    );
}

#[test]
fn every_board_metric_is_recomputed_from_the_written_files() {
    let out = std::env::temp_dir().join(format!("aquamvs-board-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let args = [
        "board",
        "--out",
        "",
        "--poses",
        "8",
        "--width",
        "320",
        "--height",
        "240",
        "--depths",
        "32",
        "--references",
        "4",
    ];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args[2] = out.display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(&args)
        .env("NODEVICE_SELECT", "1")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "xtask board failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = json(&out.join("board.json"));
    assert_eq!(report["poses"], 8);

    let (mut all, mut errors_px) = (Sums::default(), Vec::new());
    let (mut detected, mut dropouts) = (0usize, 0usize);
    let mut square_mm = f64::NAN;
    let per_pose = report["per_pose"].as_array().unwrap();
    assert_eq!(per_pose.len(), 8);
    for (k, reported) in per_pose.iter().enumerate() {
        let dir = out.join("poses").join(k.to_string());
        let rig: RigFile = serde_json::from_value(json(&dir.join("scene/rig.json"))).unwrap();
        let rig = Rig::from_file(&rig).unwrap();
        let scene = json(&dir.join("scene/scene.json"));
        let (cols, rows, square) = (
            scene["board"]["cols"].as_u64().unwrap() as usize,
            scene["board"]["rows"].as_u64().unwrap() as usize,
            num(&scene["board"]["square"]),
        );
        square_mm = square * 1e3;
        let ideal = |id: usize| {
            let (i, j) = (id % (cols - 1), id / (cols - 1));
            Vector3::new(
                (i as f64 + 1.0 - cols as f64 / 2.0) * square,
                (j as f64 + 1.0 - rows as f64 / 2.0) * square,
                0.0,
            )
        };
        let corners = json(&dir.join("corners.json"));
        let exact: BTreeMap<usize, Vector3<f64>> = corners["exact"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_u64().unwrap() as usize,
                    Vector3::new(num(&r[1]), num(&r[2]), num(&r[3])),
                )
            })
            .collect();
        assert_eq!(exact.len(), (cols - 1) * (rows - 1));
        let mut obs = Vec::new();
        for (name, rows) in corners["detected"].as_object().unwrap() {
            let cam: &Camera<f64> = &rig.cameras[rig.index_of(name).unwrap()];
            let npy = aquamvs_io::npy::read_f32(&dir.join(format!("depth/{name}.npy"))).unwrap();
            for r in rows.as_array().unwrap() {
                let (id, u, v) = (r[0].as_u64().unwrap() as usize, num(&r[1]), num(&r[2]));
                detected += 1;
                // The detector's own error against the exact projection.
                let pr = cam.project(&Point3::from(exact[&id])).unwrap();
                let (eu, ev) = cam.distort_pixel(pr.pixel.x, pr.pixel.y);
                errors_px.push((u - eu).hypot(v - ev));
                let Some(d) = read_depth(&npy.data, npy.width, npy.height, u, v) else {
                    dropouts += 1;
                    continue;
                };
                let (uu, vv) = cam.undistort_pixel(u, v);
                let ray = cam.cast_ray(uu, vv).unwrap();
                obs.push(Obs {
                    id,
                    point: ray.origin.coords + ray.direction * d,
                    ray: ray.direction.normalize(),
                    exact: exact[&id],
                });
            }
        }
        let n = obs.len() as f64;
        let mean = obs.iter().map(|o| o.point).sum::<Vector3<f64>>() / n;
        // Flatness: the plane through the mean whose normal is the last right-singular vector.
        let centred = nalgebra::DMatrix::from_fn(obs.len(), 3, |r, c| obs[r].point[c] - mean[c]);
        let svd = centred.svd(false, true);
        let vt = svd.v_t.unwrap();
        let k_min = svd.singular_values.imin();
        let normal = Vector3::new(vt[(k_min, 0)], vt[(k_min, 1)], vt[(k_min, 2)]);
        let flat: Vec<f64> = obs.iter().map(|o| normal.dot(&(o.point - mean))).collect();
        // Cross-camera: distance to each corner's mean over the cameras that transferred it.
        let mut by_id: BTreeMap<usize, Vec<Vector3<f64>>> = BTreeMap::new();
        for o in &obs {
            by_id.entry(o.id).or_default().push(o.point);
        }
        let mut cross = Vec::new();
        for pts in by_id.values().filter(|p| p.len() >= 2) {
            let m = pts.iter().sum::<Vector3<f64>>() / pts.len() as f64;
            cross.extend(pts.iter().map(|p| (p - m).norm()));
        }
        // Similarity of the ideal board onto the transferred corners.
        let ideal_pts: Vec<Vector3<f64>> = obs.iter().map(|o| ideal(o.id)).collect();
        let ideal_mean = ideal_pts.iter().sum::<Vector3<f64>>() / n;
        let a: Vec<_> = ideal_pts.iter().map(|p| p - ideal_mean).collect();
        let b: Vec<_> = obs.iter().map(|o| o.point - mean).collect();
        let (r, s) = horn_similarity(&a, &b);
        let (mut range, mut lateral, mut abs) = (Vec::new(), Vec::new(), Vec::new());
        for (o, a) in obs.iter().zip(&a) {
            let fitted = mean + r * a * s;
            let (along, across) = split(&(o.point - fitted), &o.ray);
            range.push(along);
            lateral.push(across);
            abs.push((o.point - o.exact).norm());
        }
        let at = |f: &str| format!("per_pose[{k}].{f}");
        close(
            &at("flatness_rms_mm"),
            rms_mm(&flat),
            num(&reported["flatness_rms_mm"]),
        );
        close(
            &at("cross_camera_rms_mm"),
            rms_mm(&cross),
            num(&reported["cross_camera_rms_mm"]),
        );
        close(
            &at("range_rms_mm"),
            rms_mm(&range),
            num(&reported["range_rms_mm"]),
        );
        close(
            &at("lateral_rms_mm"),
            rms_mm(&lateral),
            num(&reported["lateral_rms_mm"]),
        );
        close(
            &at("absolute_rms_mm"),
            rms_mm(&abs),
            num(&reported["absolute_rms_mm"]),
        );
        close(
            &at("square_size_mm"),
            s * square * 1e3,
            num(&reported["square_size_mm"]),
        );
        close(
            &at("scale_error_pct"),
            (s - 1.0) * 100.0,
            num(&reported["scale_error_pct"]),
        );
        assert_eq!(reported["transferred"], obs.len());
        all.flat.extend(flat);
        all.cross.extend(cross);
        all.range.extend(range);
        all.lateral.extend(lateral);
        all.abs.extend(abs);
        all.scales.push(s);
    }
    let m = all.scales.len() as f64;
    let mean_scale = all.scales.iter().sum::<f64>() / m;
    let sd = (all
        .scales
        .iter()
        .map(|s| (s - mean_scale).powi(2))
        .sum::<f64>()
        / (m - 1.0))
        .sqrt();
    let (range, lateral) = (rms_mm(&all.range), rms_mm(&all.lateral));
    for (name, got) in [
        ("flatness_rms_mm", rms_mm(&all.flat)),
        ("cross_camera_rms_mm", rms_mm(&all.cross)),
        ("range_rms_mm", range),
        ("lateral_rms_mm", lateral),
        ("range_lateral_ratio", range / lateral),
        ("scale_error_pct", (mean_scale - 1.0) * 100.0),
        ("square_size_mm", mean_scale * square_mm),
        ("board_size_cv", sd / mean_scale),
        ("absolute_rms_mm", rms_mm(&all.abs)),
    ] {
        close(name, got, num(&report[name]));
    }
    // The detector's error is reported, and the dropouts are few.
    close(
        "detector.median_px",
        median(&mut errors_px),
        num(&report["detector"]["median_px"]),
    );
    let max_px = errors_px.iter().copied().fold(0.0, f64::max);
    close(
        "detector.max_px",
        max_px,
        num(&report["detector"]["max_px"]),
    );
    assert_eq!(report["detector"]["detected"], detected);
    assert_eq!(report["dropouts"], dropouts);
    let pct = 100.0 * dropouts as f64 / detected as f64;
    close("dropout_pct", pct, num(&report["dropout_pct"]));
    assert!(pct < 2.0, "dropout {pct} % of {detected} detected corners");
    // 88 corners, 8 poses, 4 cameras: most corners are seen by most cameras.
    assert!(detected > 8 * 88 * 2, "only {detected} corners detected");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_input_is_refused_before_any_work() {
    let out = std::env::temp_dir().join(format!("aquamvs-board-bad-{}", std::process::id()));
    let out = out.display().to_string();
    let file = std::env::temp_dir().join(format!("aquamvs-board-file-{}", std::process::id()));
    std::fs::write(&file, "not a folder").unwrap();
    let missing_rig = format!("{out}-no-such-calibration.json");
    for (args, want) in [
        (vec!["--poses", "0"], "--poses 0"),
        (vec!["--method", "bogus"], "--method"),
        (vec!["--rig", missing_rig.as_str()], "no-such-calibration"),
        (vec!["--references", "0"], "--references"),
        (vec!["--margin", "nan"], "--margin"),
    ] {
        let t = std::time::Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["board", "--out", out.as_str()])
            .args(&args)
            .env("NODEVICE_SELECT", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(t.elapsed().as_secs_f64() < 5.0, "{args:?} refused late");
        assert!(!Path::new(&out).exists(), "{args:?} wrote {out}");
    }
    // An output place that is a file.
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["board", "--out", file.to_str().unwrap()])
        .env("NODEVICE_SELECT", "1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
    let _ = std::fs::remove_file(&file);
}
