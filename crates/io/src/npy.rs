//! NumPy `.npy` (format 1.0) for 2-D little-endian `float32` arrays, C order.

use std::path::Path;

use crate::{IoError, write_atomic};

/// A row-major `height × width` float32 image (NaN marks invalid pixels).
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayF32 {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `height * width` values, row-major.
    pub data: Vec<f32>,
}

/// Encodes a `.npy` file in memory.
pub fn encode_f32(height: usize, width: usize, data: &[f32]) -> Vec<u8> {
    encode_f32_shape(&[height, width], data)
}

/// Encodes a float32 `.npy` of any shape (C order), e.g. `[height, width, 3]` for normals.
pub fn encode_f32_shape(shape: &[usize], data: &[f32]) -> Vec<u8> {
    assert_eq!(
        data.len(),
        shape.iter().product::<usize>(),
        "npy: data length != product of the shape"
    );
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // Magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes a 2-D float32 `.npy` file atomically.
pub fn write_f32(path: &Path, height: usize, width: usize, data: &[f32]) -> Result<(), IoError> {
    write_atomic(path, &encode_f32(height, width, data))
}

/// Reads a 2-D little-endian float32 (or float64, converted) C-order `.npy` file.
pub fn read_f32(path: &Path) -> Result<ArrayF32, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    decode_f32(&bytes).map_err(|m| IoError::format(path, m))
}

/// Decodes a `.npy` file held in memory.
pub fn decode_f32(bytes: &[u8]) -> Result<ArrayF32, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (bad magic)".into());
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "non-UTF-8 .npy header")?;
    let descr = field(header, "descr").ok_or("no 'descr' in .npy header")?;
    let elem = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => 4,
        "<f8" => 8,
        d => return Err(format!("unsupported dtype {d} (want <f4 or <f8)")),
    };
    if field(header, "fortran_order").is_some_and(|f| f.trim() == "True") {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape = header
        .split_once("'shape':")
        .and_then(|(_, r)| r.split_once('('))
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(s, _)| s)
        .ok_or("no 'shape' in .npy header")?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("bad shape entry {s:?}")))
        .collect::<Result<_, _>>()?;
    let (height, width) = match dims[..] {
        [h, w] => (h, w),
        _ => return Err(format!("expected a 2-D array, shape is {dims:?}")),
    };
    let body = &bytes[start + hlen..];
    let n = height * width;
    if body.len() < n * elem {
        return Err(format!(
            "truncated data: {} bytes for {height}x{width} values",
            body.len()
        ));
    }
    let data = if elem == 4 {
        body[..n * 4]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        body[..n * 8]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect()
    };
    Ok(ArrayF32 {
        height,
        width,
        data,
    })
}

fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let (_, rest) = header.split_once(&format!("'{key}':"))?;
    Some(rest.split(',').next()?.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_nan() {
        let data = vec![1.0, f32::NAN, -2.5, 3.25, 0.0, 7.0];
        let bytes = encode_f32(2, 3, &data);
        assert_eq!((bytes.len() - data.len() * 4) % 64, 0);
        let back = decode_f32(&bytes).unwrap();
        assert_eq!((back.height, back.width), (2, 3));
        assert!(back.data[1].is_nan());
        assert_eq!(back.data[5], 7.0);
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode_f32(b"hello").is_err());
        let mut bytes = encode_f32(2, 2, &[1.0; 4]);
        bytes.truncate(bytes.len() - 3);
        assert!(decode_f32(&bytes).unwrap_err().contains("truncated"));
    }
}
