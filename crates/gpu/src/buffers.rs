//! Buffer helpers shared by the workspace's GPU code: creation with the usual usages, and a
//! blocking read-back through a `MAP_READ` staging buffer.

use bytemuck::Pod;
use wgpu::util::DeviceExt;

/// Why [`read_back`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    /// More values were asked for than the buffer holds.
    #[error("{wanted} bytes asked for from a {size}-byte buffer")]
    TooLong {
        /// Bytes asked for.
        wanted: u64,
        /// Size of the buffer.
        size: u64,
    },
    /// Waiting for the GPU failed (device lost, timeout).
    #[error("waiting for the GPU: {0}")]
    Poll(#[from] wgpu::PollError),
    /// The mapping was dropped before its callback ran.
    #[error("the buffer mapping was dropped")]
    Dropped,
    /// The buffer could not be mapped (not `MAP_READ`, already mapped, device lost).
    #[error("mapping the buffer: {0}")]
    Map(#[from] wgpu::BufferAsyncError),
    /// The mapped range could not be read.
    #[error("reading the mapped buffer: {0}")]
    Range(#[from] wgpu::MapRangeError),
}

/// A buffer holding `contents`, with `usage`.
pub fn init_buffer<T: Pod>(
    device: &wgpu::Device,
    label: &str,
    contents: &[T],
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(contents),
        usage,
    })
}

/// A read-only storage buffer (`STORAGE`) holding `contents`.
pub fn storage_buffer<T: Pod>(device: &wgpu::Device, label: &str, contents: &[T]) -> wgpu::Buffer {
    init_buffer(device, label, contents, wgpu::BufferUsages::STORAGE)
}

/// A uniform buffer (`UNIFORM`) holding `value`.
pub fn uniform_buffer<T: Pod>(device: &wgpu::Device, label: &str, value: &T) -> wgpu::Buffer {
    init_buffer(
        device,
        label,
        std::slice::from_ref(value),
        wgpu::BufferUsages::UNIFORM,
    )
}

/// A zero-filled buffer of `size` bytes, **at least 16** so that it can be bound even when
/// `size` is 0.
pub fn empty_buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(16),
        usage,
        mapped_at_creation: false,
    })
}

/// A staging buffer of `size` bytes (`MAP_READ | COPY_DST`) to copy results into and read
/// them back with [`read_back`].
pub fn staging_buffer(device: &wgpu::Device, label: &str, size: u64) -> wgpu::Buffer {
    empty_buffer(
        device,
        label,
        size,
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    )
}

/// Maps `buffer` (`MAP_READ`), **blocks** until the GPU is done with it, and returns its first
/// `len` values; the buffer is unmapped again.
pub fn read_back<T: Pod>(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    len: usize,
) -> Result<Vec<T>, ReadBackError> {
    let bytes = (len * std::mem::size_of::<T>()) as u64;
    if bytes > buffer.size() {
        return Err(ReadBackError::TooLong {
            wanted: bytes,
            size: buffer.size(),
        });
    }
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let slice = buffer.slice(..bytes);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device.poll(wgpu::PollType::Wait {
        submission_index: None,
        timeout: None,
    })?;
    rx.recv().map_err(|_| ReadBackError::Dropped)??;
    let mut out = vec![T::zeroed(); len];
    {
        let view = slice.get_mapped_range()?;
        // Copied as bytes into a `Vec<T>`: aligned for `T` whatever the mapping's alignment.
        bytemuck::cast_slice_mut::<T, u8>(&mut out).copy_from_slice(&view);
    }
    buffer.unmap();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GpuContext;

    #[test]
    fn read_back_returns_what_was_copied() {
        let Some(ctx) = GpuContext::for_tests(&Default::default())
            .expect("no GPU adapter (CI=true: GPU tests must not be skipped)")
        else {
            return;
        };
        let (device, queue) = (&ctx.device, &ctx.queue);
        let data: Vec<f32> = (0..100).map(|i| i as f32 * 0.5 - 7.0).collect();
        let src = init_buffer(
            device,
            "test source",
            &data,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let staging = staging_buffer(device, "test staging", 400);
        let mut enc = device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&src, 0, &staging, 0, 400);
        queue.submit([enc.finish()]);
        assert_eq!(read_back::<f32>(device, &staging, 100).unwrap(), data);
        // Again (the buffer was unmapped), a prefix, and as raw words.
        assert_eq!(read_back::<f32>(device, &staging, 3).unwrap(), &data[..3]);
        let words = read_back::<u32>(device, &staging, 2).unwrap();
        assert_eq!(words, [data[0].to_bits(), data[1].to_bits()]);
        assert!(read_back::<f32>(device, &staging, 0).unwrap().is_empty());
        assert!(matches!(
            read_back::<f32>(device, &staging, 101),
            Err(ReadBackError::TooLong {
                wanted: 404,
                size: 400
            })
        ));
        // Small buffers are at least 16 bytes; uniforms hold their value.
        assert_eq!(
            empty_buffer(device, "empty", 0, wgpu::BufferUsages::STORAGE).size(),
            16
        );
        assert_eq!(uniform_buffer(device, "u", &[1u32; 4]).size(), 16);
        assert_eq!(storage_buffer(device, "s", &data).size(), 400);
    }
}
