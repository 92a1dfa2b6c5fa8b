//! Memory accounting helpers: the byte size of GPU textures and the process's peak resident
//! memory.

/// Bytes per mebibyte: **every `*_mb` field of the report is in MiB (2²⁰ bytes).**
pub const BYTES_PER_MB: f64 = 1024.0 * 1024.0;

/// The process's peak resident set size in bytes (`VmHWM` in `/proc/self/status`).
///
/// `None` where the file does not exist or cannot be parsed (anything but Linux).
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// Parses the `VmHWM:` line of a `/proc/<pid>/status` text (the value is in kB).
pub(crate) fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut parts = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(value * 1024),
        Some(_) => None,
    }
}

/// Bytes a texture with this descriptor occupies, all mip levels, array layers and samples
/// included, as the format's block size times the block count (**padding and driver
/// alignment not included**, so it is a lower bound of the real footprint).
///
/// Depth and stencil formats without a copyable block size count their stored bytes
/// (`Depth24Plus` as 4, `Depth32FloatStencil8` as 8); a format whose size wgpu does not
/// publish is counted at 4 bytes per block.
pub fn texture_bytes(desc: &wgpu::TextureDescriptor<'_>) -> u64 {
    use wgpu::TextureFormat as F;
    let format = desc.format;
    let block_bytes = format.block_copy_size(None).unwrap_or(match format {
        F::Stencil8 => 1,
        F::Depth16Unorm => 2,
        F::Depth24Plus | F::Depth24PlusStencil8 | F::Depth32Float => 4,
        F::Depth32FloatStencil8 => 8,
        F::NV12 => 3,
        F::P010 => 6,
        _ => 4,
    }) as u64;
    let (bw, bh) = format.block_dimensions();
    let mut total = 0u64;
    for level in 0..desc.mip_level_count.max(1) {
        let Some(size) = desc.mip_level_size(level) else {
            break;
        };
        // Array layers for 1-D/2-D textures, the (halved) depth for 3-D ones.
        let layers = size.depth_or_array_layers;
        total += size.width.div_ceil(bw.max(1)) as u64
            * size.height.div_ceil(bh.max(1)) as u64
            * layers as u64
            * block_bytes;
    }
    total * desc.sample_count.max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_hwm() {
        let text = "Name:\tx\nVmPeak:\t  2000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(text), Some(1234 * 1024));
        assert_eq!(parse_vm_hwm("VmRSS: 5 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM: x kB\n"), None);
    }

    #[test]
    fn texture_sizes() {
        let mut desc = wgpu::TextureDescriptor {
            label: None,
            size: wgpu::Extent3d {
                width: 640,
                height: 480,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::R32Float,
            usage: wgpu::TextureUsages::STORAGE_BINDING,
            view_formats: &[],
        };
        assert_eq!(texture_bytes(&desc), 640 * 480 * 4);
        desc.format = wgpu::TextureFormat::Rgba8Unorm;
        desc.size.depth_or_array_layers = 3;
        assert_eq!(texture_bytes(&desc), 640 * 480 * 4 * 3);
        desc.size.depth_or_array_layers = 1;
        desc.mip_level_count = 2;
        assert_eq!(texture_bytes(&desc), 640 * 480 * 4 + 320 * 240 * 4);
        desc.mip_level_count = 1;
        desc.format = wgpu::TextureFormat::Depth24PlusStencil8;
        assert_eq!(texture_bytes(&desc), 640 * 480 * 4);
        desc.format = wgpu::TextureFormat::Bc1RgbaUnorm;
        assert_eq!(texture_bytes(&desc), 160 * 120 * 8);
    }

    #[test]
    fn peak_resident_is_positive_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_resident_bytes().is_some_and(|b| b > 0));
        }
    }
}
