//! Plots as self-contained SVG documents, written by hand.
//!
//! Why by hand and not plotters: three simple charts need bars, axes and text; hand-written
//! SVG is byte-for-byte deterministic (so `update-docs --check` can compare files), needs no
//! font files or font measuring, and adds no dependency. The depth-error map is a raster: it is
//! encoded as a PNG (the `png` crate the workspace already uses) and embedded in the SVG as a
//! `data:` URI beside a vector colour bar.
//!
//! **Every function returns text or bytes; none touches the file system.**

use std::fmt::Write as _;

use aquamvs_results::{ErrorMap, ErrorMapRef, ProfileReport};

use crate::ReportError;
use crate::table::{fixed, speedup};
use crate::tables::workload_line;

const WIDTH: f64 = 760.0;
const FONT: &str = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";
const BLUE: &str = "#3a6ea5";
const ORANGE: &str = "#e08a2c";
const GREY: &str = "#555555";

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" axis: (step, axis maximum) for data up to `max`, about five ticks.
fn nice_axis(max: f64) -> (f64, f64) {
    if !(max.is_finite() && max > 0.0) {
        return (0.2, 1.0);
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    } * mag;
    (step, (max / step).ceil() * step)
}

/// Decimals that show an axis step exactly.
fn step_decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    }
}

fn header(height: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" {FONT} font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{x}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\" font-weight=\"bold\">{t}</text>\n",
        x = WIDTH / 2.0,
        t = esc(title)
    )
}

/// Horizontal bars: each stage's total time, and beneath it its GPU time where there is one.
pub fn stage_timing(profile: &ProfileReport) -> String {
    let names: Vec<&str> = profile.stages.iter().map(|(n, _)| n).collect();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4);
    let left = 20.0 + 7.5 * longest as f64;
    let right = 90.0;
    let top = 62.0;
    let band = 40.0;
    let plot_w = WIDTH - left - right;
    let height = top + band * names.len() as f64 + 50.0;
    let max = profile
        .stages
        .iter()
        .flat_map(|(_, s)| [s.total_time_ms, s.gpu_time_ms.unwrap_or(0.0)])
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (step, axis_max) = nice_axis(max);
    let x = |v: f64| left + plot_w * (v.max(0.0) / axis_max).min(1.0);

    let mut s = header(
        height,
        &format!("Time per stage ({})", workload_line(&profile.workload)),
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"42\" text-anchor=\"middle\" fill=\"{GREY}\">timing source: {}</text>",
        WIDTH / 2.0,
        profile.timing_source
    );
    // Legend.
    let _ = writeln!(
        s,
        "<rect x=\"{l}\" y=\"48\" width=\"12\" height=\"8\" fill=\"{BLUE}\"/>\
         <text x=\"{lt}\" y=\"56\">total</text>\
         <rect x=\"{g}\" y=\"48\" width=\"12\" height=\"8\" fill=\"{ORANGE}\"/>\
         <text x=\"{gt}\" y=\"56\">GPU (timestamps)</text>",
        l = left,
        lt = left + 16.0,
        g = left + 70.0,
        gt = left + 86.0
    );
    // Grid and ticks.
    let bottom = top + band * names.len() as f64;
    let decimals = step_decimals(step);
    let mut v = 0.0;
    while v <= axis_max + step * 1e-9 {
        let xv = x(v);
        let _ = writeln!(
            s,
            "<line x1=\"{xv:.1}\" y1=\"{top}\" x2=\"{xv:.1}\" y2=\"{bottom}\" stroke=\"#dddddd\"/>\
             <text x=\"{xv:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            ty = bottom + 16.0,
            label = fixed(v, decimals)
        );
        v += step;
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (ms)</text>",
        left + plot_w / 2.0,
        bottom + 36.0
    );
    for (i, (name, st)) in profile.stages.iter().enumerate() {
        let y0 = top + band * i as f64;
        let _ = writeln!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{n}</text>\
             <rect x=\"{left}\" y=\"{by}\" width=\"{w:.1}\" height=\"16\" fill=\"{BLUE}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\">{val} ms</text>",
            lx = left - 8.0,
            ty = y0 + 18.0,
            n = esc(name),
            by = y0 + 6.0,
            w = x(st.total_time_ms) - left,
            vx = x(st.total_time_ms) + 4.0,
            val = fixed(st.total_time_ms, 1)
        );
        if let Some(gpu) = st.gpu_time_ms {
            let _ = writeln!(
                s,
                "<rect x=\"{left}\" y=\"{gy}\" width=\"{w:.1}\" height=\"8\" fill=\"{ORANGE}\"/>\
                 <text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"10\" fill=\"{GREY}\">{val}</text>",
                gy = y0 + 24.0,
                w = x(gpu) - left,
                vx = x(gpu) + 4.0,
                ty = y0 + 31.0,
                val = fixed(gpu, 1)
            );
        }
    }
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"black\"/>"
    );
    s.push_str("</svg>\n");
    s
}

/// Vertical bars: median sweep time per batch size with a min–max whisker, speed-up on top.
pub fn batching(profile: &ProfileReport) -> String {
    let rows = &profile.depth_batching;
    let left = 70.0;
    let top = 60.0;
    let plot_h = 260.0;
    let bottom = top + plot_h;
    let height = bottom + 60.0;
    let plot_w = WIDTH - left - 30.0;
    let max = rows
        .iter()
        .flat_map(|b| [b.median_ms, b.max_ms])
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (step, axis_max) = nice_axis(max);
    let y = |v: f64| bottom - plot_h * (v.max(0.0) / axis_max).min(1.0);
    let subtitle = profile
        .depth_batching_workload
        .as_ref()
        .map(workload_line)
        .unwrap_or_default();
    let mut s = header(height, "Sweep time per depth-batch size");
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"42\" text-anchor=\"middle\" fill=\"{GREY}\">{}</text>",
        WIDTH / 2.0,
        esc(&subtitle)
    );
    let decimals = step_decimals(step);
    let mut v = 0.0;
    while v <= axis_max + step * 1e-9 {
        let yv = y(v);
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{yv:.1}\" x2=\"{x2}\" y2=\"{yv:.1}\" stroke=\"#dddddd\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x2 = left + plot_w,
            tx = left - 6.0,
            ty = yv + 4.0,
            label = fixed(v, decimals)
        );
        v += step;
    }
    let _ = writeln!(
        s,
        "<text x=\"18\" y=\"{my}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {my})\">median time (ms)</text>",
        my = top + plot_h / 2.0
    );
    let slot = plot_w / rows.len().max(1) as f64;
    let bar = (slot * 0.5).min(90.0);
    for (i, b) in rows.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let ym = y(b.median_ms);
        let _ = writeln!(
            s,
            "<rect x=\"{bx:.1}\" y=\"{ym:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{BLUE}\"/>\
             <line x1=\"{cx:.1}\" y1=\"{ymin:.1}\" x2=\"{cx:.1}\" y2=\"{ymax:.1}\" stroke=\"black\"/>\
             <line x1=\"{w0:.1}\" y1=\"{ymin:.1}\" x2=\"{w1:.1}\" y2=\"{ymin:.1}\" stroke=\"black\"/>\
             <line x1=\"{w0:.1}\" y1=\"{ymax:.1}\" x2=\"{w1:.1}\" y2=\"{ymax:.1}\" stroke=\"black\"/>\
             <text x=\"{cx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{med} ms · {sp}</text>\
             <text x=\"{cx:.1}\" y=\"{lb}\" text-anchor=\"middle\">batch {bs}</text>",
            bx = cx - bar / 2.0,
            h = bottom - ym,
            ymin = y(b.min_ms),
            ymax = y(b.max_ms),
            w0 = cx - 6.0,
            w1 = cx + 6.0,
            ty = y(b.max_ms.max(b.median_ms)) - 6.0,
            med = fixed(b.median_ms, 1),
            sp = speedup(b.speedup),
            lb = bottom + 18.0,
            bs = b.batch_size
        );
    }
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{x2}\" y2=\"{bottom}\" stroke=\"black\"/>\
         <text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\" fill=\"{GREY}\">bars: median; whiskers: min–max; label: speed-up vs batch 1</text>",
        x2 = left + plot_w,
        cx = left + plot_w / 2.0,
        ly = bottom + 42.0
    );
    s.push_str("</svg>\n");
    s
}

/// Diverging colour for `t` in [-1, 1]: blue (negative), white (0), red (positive).
fn diverging(t: f32) -> [u8; 3] {
    const NEG: [f32; 3] = [33.0, 102.0, 172.0];
    const MID: [f32; 3] = [247.0, 247.0, 247.0];
    const POS: [f32; 3] = [178.0, 24.0, 43.0];
    let t = t.clamp(-1.0, 1.0);
    let (end, a) = if t < 0.0 { (NEG, -t) } else { (POS, t) };
    let mut out = [0u8; 3];
    for i in 0..3 {
        out[i] = (MID[i] + (end[i] - MID[i]) * a).round() as u8;
    }
    out
}

/// Colour of pixels without an estimate or ground truth.
const INVALID: [u8; 3] = [96, 96, 96];

/// The default colour limit of an error map, mm.
pub const DEFAULT_ERROR_LIMIT_MM: f64 = 1.0;

/// Encodes the error map as an RGB PNG: blue = too near, red = too far, saturating at
/// ±`limit_mm`; grey = no value. Maps wider than 800 px are shown at every `k`-th pixel.
pub fn error_map_png(map: &ErrorMap, limit_mm: f64) -> Result<Vec<u8>, ReportError> {
    map.validate("error map")?;
    if !(limit_mm.is_finite() && limit_mm > 0.0) {
        return Err(ReportError::Invalid {
            what: "error map".into(),
            message: format!("colour limit {limit_mm} mm must be positive"),
        });
    }
    let stride = (map.width as usize).div_ceil(800).max(1);
    let (w, h) = (map.width as usize, map.height as usize);
    let (ow, oh) = (w.div_ceil(stride), h.div_ceil(stride));
    let mut rgb = Vec::with_capacity(ow * oh * 3);
    for row in (0..h).step_by(stride) {
        for col in (0..w).step_by(stride) {
            let c = match map.values[row * w + col] {
                Some(v) if v.is_finite() => diverging(v / limit_mm as f32),
                _ => INVALID,
            };
            rgb.extend_from_slice(&c);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, ow as u32, oh as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        let png_err = |e: png::EncodingError| ReportError::Png(e.to_string());
        let mut writer = enc.write_header().map_err(png_err)?;
        writer.write_image_data(&rgb).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
    }
    Ok(out)
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The error map of one view with a title and a colour bar; the image is an embedded PNG.
pub fn error_map(map: &ErrorMap, about: &ErrorMapRef) -> Result<String, ReportError> {
    let limit = about.color_limit_mm.unwrap_or(DEFAULT_ERROR_LIMIT_MM);
    let png = error_map_png(map, limit)?;
    let (img_w, img_h) = {
        let scale = (520.0 / f64::from(map.width)).min(420.0 / f64::from(map.height));
        (f64::from(map.width) * scale, f64::from(map.height) * scale)
    };
    let top = 50.0;
    let left = 30.0;
    let height = top + img_h + 40.0;
    let method = about.method.map(|m| format!(", {m}")).unwrap_or_default();
    let mut s = header(
        height,
        &format!(
            "Ray-depth error, {} scene, view {}{method}",
            about.scene, about.view
        ),
    );
    let _ = writeln!(
        s,
        "<image x=\"{left}\" y=\"{top}\" width=\"{img_w:.1}\" height=\"{img_h:.1}\" \
         preserveAspectRatio=\"none\" image-rendering=\"optimizeSpeed\" \
         style=\"image-rendering:pixelated\" \
         href=\"data:image/png;base64,{}\"/>",
        base64(&png)
    );
    // Colour bar.
    let bx = left + img_w + 30.0;
    let steps = 40;
    let bar_h = img_h.min(300.0);
    let cell = bar_h / f64::from(steps);
    for i in 0..steps {
        let t = 1.0 - 2.0 * (f64::from(i) + 0.5) / f64::from(steps);
        let [r, g, b] = diverging(t as f32);
        let _ = writeln!(
            s,
            "<rect x=\"{bx:.1}\" y=\"{y:.2}\" width=\"18\" height=\"{h:.2}\" fill=\"rgb({r},{g},{b})\"/>",
            y = top + cell * f64::from(i),
            h = cell + 0.01
        );
    }
    let decimals = if limit >= 10.0 { 0 } else { 2 };
    for (frac, label) in [
        (0.0, format!("+{} mm (too far)", fixed(limit, decimals))),
        (0.5, "0".to_owned()),
        (1.0, format!("−{} mm (too near)", fixed(limit, decimals))),
    ] {
        let _ = writeln!(
            s,
            "<text x=\"{tx:.1}\" y=\"{ty:.1}\">{}</text>",
            esc(&label),
            tx = bx + 24.0,
            ty = top + bar_h * frac + 4.0
        );
    }
    let [r, g, b] = INVALID;
    let _ = writeln!(
        s,
        "<rect x=\"{bx:.1}\" y=\"{gy:.1}\" width=\"18\" height=\"12\" fill=\"rgb({r},{g},{b})\"/>\
         <text x=\"{tx:.1}\" y=\"{ty:.1}\">no estimate</text>",
        gy = top + bar_h + 16.0,
        tx = bx + 24.0,
        ty = top + bar_h + 26.0
    );
    let _ = writeln!(
        s,
        "<text x=\"{left}\" y=\"{ty:.1}\" fill=\"{GREY}\">{w}×{h} px; estimate − ground truth, saturating at ±{l} mm</text>",
        ty = top + img_h + 24.0,
        w = map.width,
        h = map.height,
        l = fixed(limit, decimals)
    );
    s.push_str("</svg>\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn nice_axes() {
        assert_eq!(nice_axis(4158.6), (1000.0, 5000.0));
        assert_eq!(nice_axis(9.0), (2.0, 10.0));
        assert_eq!(nice_axis(0.0), (0.2, 1.0));
        let (step, max) = nice_axis(0.37);
        assert!((step - 0.1).abs() < 1e-12 && (max - 0.4).abs() < 1e-12);
    }

    #[test]
    fn colours() {
        assert_eq!(diverging(0.0), [247, 247, 247]);
        assert_eq!(diverging(-1.0), [33, 102, 172]);
        assert_eq!(diverging(5.0), [178, 24, 43]);
    }
}
