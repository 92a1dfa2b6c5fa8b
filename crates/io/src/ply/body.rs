//! The PLY body, streamed: binary rows read in bounded chunks, ASCII values token by token.
//! Nothing is allocated from a count the file states beyond what the file can hold.

use std::io::{BufRead, Read};

use super::header::{Element, Kind, Scalar};

/// Bytes read at once from a binary body (fixed-size rows are decoded a chunk at a time).
const CHUNK: usize = 1 << 20;
/// Longest ASCII value, bytes.
const MAX_TOKEN: usize = 1024;
/// Rows reserved up front when the body's size is unknown (a pipe): more are added as they
/// arrive, so a lying count cannot allocate memory.
const UNKNOWN_SIZE_RESERVE: usize = 1 << 16;

/// The body of a PLY file being read.
pub(super) struct Body<R> {
    r: R,
    /// Bytes left in the body, when known (a regular file, bytes in memory).
    left: Option<u64>,
    buf: Vec<u8>,
    pub(super) big_endian: bool,
}

fn io_error(e: std::io::Error) -> String {
    format!("reading the PLY body: {e}")
}

impl<R: BufRead> Body<R> {
    pub(super) fn new(r: R, left: Option<u64>, big_endian: bool) -> Self {
        Self {
            r,
            left,
            buf: Vec::new(),
            big_endian,
        }
    }

    /// Capacity to reserve for `count` rows: all of them when the body's size is known (the
    /// counts were checked against it), a bounded start otherwise.
    pub(super) fn reserve(&self, count: usize) -> usize {
        match self.left {
            Some(_) => count,
            None => count.min(UNKNOWN_SIZE_RESERVE),
        }
    }

    /// The next `n` bytes of a binary body.
    pub(super) fn take(&mut self, n: usize, what: &str, row: usize) -> Result<&[u8], String> {
        let truncated = || format!("truncated PLY: the file ends inside {what} {row}");
        if self.left.is_some_and(|left| n as u64 > left) {
            return Err(truncated());
        }
        self.buf.clear();
        if n <= 4 * CHUNK {
            self.buf.resize(n, 0);
            self.r
                .read_exact(&mut self.buf)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => truncated(),
                    _ => io_error(e),
                })?;
        } else {
            // A long list: grow with the data, not with the stated length.
            let got = self
                .r
                .by_ref()
                .take(n as u64)
                .read_to_end(&mut self.buf)
                .map_err(io_error)?;
            if got < n {
                return Err(truncated());
            }
        }
        if let Some(left) = &mut self.left {
            *left -= n as u64;
        }
        Ok(&self.buf)
    }

    /// Skips `n` bytes of a binary body.
    fn skip(&mut self, n: u64, what: &str) -> Result<(), String> {
        let got =
            std::io::copy(&mut self.r.by_ref().take(n), &mut std::io::sink()).map_err(io_error)?;
        if got < n {
            return Err(format!(
                "truncated PLY: the file ends inside the `{what}` rows"
            ));
        }
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(n);
        }
        Ok(())
    }

    /// The next whitespace-separated value of an ASCII body.
    pub(super) fn token(&mut self, what: &str, row: usize) -> Result<&str, String> {
        loop {
            let buf = self.r.fill_buf().map_err(io_error)?;
            if buf.is_empty() {
                return Err(format!("truncated PLY: the file ends inside {what} {row}"));
            }
            let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let all = blank == buf.len();
            self.r.consume(blank);
            if !all {
                break;
            }
        }
        self.buf.clear();
        loop {
            let buf = self.r.fill_buf().map_err(io_error)?;
            let n = buf.iter().take_while(|b| !b.is_ascii_whitespace()).count();
            let done = n < buf.len() || buf.is_empty();
            self.buf.extend_from_slice(&buf[..n]);
            self.r.consume(n);
            if self.buf.len() > MAX_TOKEN {
                return Err(format!(
                    "{what} {row}: a value longer than {MAX_TOKEN} bytes (is the file ASCII PLY?)"
                ));
            }
            if done {
                break;
            }
        }
        std::str::from_utf8(&self.buf).map_err(|_| format!("{what} {row}: a value is not text"))
    }

    fn float(&mut self, what: &str, row: usize) -> Result<f64, String> {
        let t = self.token(what, row)?;
        t.parse()
            .map_err(|_| format!("{what} {row}: `{t}` is not a number"))
    }

    fn int(&mut self, what: &str, row: usize) -> Result<i64, String> {
        let t = self.token(what, row)?;
        t.parse()
            .map_err(|_| format!("{what} {row}: `{t}` is not an integer"))
    }

    fn ascii_len(&mut self, what: &str, row: usize) -> Result<usize, String> {
        let n = self.int(what, row)?;
        usize::try_from(n).map_err(|_| format!("{what} {row}: negative list length {n}"))
    }

    fn ascii_skip_prop(&mut self, p: &Kind, what: &str, row: usize) -> Result<(), String> {
        let n = match p {
            Kind::Scalar(_) => 1,
            Kind::List { .. } => self.ascii_len(what, row)?,
        };
        for _ in 0..n {
            self.token(what, row)?;
        }
        Ok(())
    }

    fn list_len(&mut self, count: Scalar, what: &str, row: usize) -> Result<usize, String> {
        let be = self.big_endian;
        let n = int_at(self.take(count.size(), what, row)?, count, be);
        usize::try_from(n).map_err(|_| format!("{what} {row}: negative list length {n}"))
    }
}

/// Reads one binary scalar of type `t` from the start of `b` (at least `t.size()` bytes).
#[inline]
fn scalar_at(b: &[u8], t: Scalar, be: bool) -> f64 {
    macro_rules! rd {
        ($ty:ty, $n:literal) => {{
            let a: [u8; $n] = b[..$n].try_into().unwrap_or([0; $n]);
            (if be {
                <$ty>::from_be_bytes(a)
            } else {
                <$ty>::from_le_bytes(a)
            }) as f64
        }};
    }
    match t {
        Scalar::I8 => b[0] as i8 as f64,
        Scalar::U8 => b[0] as f64,
        Scalar::I16 => rd!(i16, 2),
        Scalar::U16 => rd!(u16, 2),
        Scalar::I32 => rd!(i32, 4),
        Scalar::U32 => rd!(u32, 4),
        Scalar::F32 => rd!(f32, 4),
        Scalar::F64 => rd!(f64, 8),
    }
}

/// Reads one binary integer of type `t` from the start of `b`. Every PLY integer type (at most
/// 32 bits) is exact in an `f64`, so this is [`scalar_at`] converted; callers check
/// `is_integer` first.
#[inline]
fn int_at(b: &[u8], t: Scalar, be: bool) -> i64 {
    scalar_at(b, t, be) as i64
}

pub(super) fn binary_vertices<R: BufRead>(
    body: &mut Body<R>,
    e: &Element,
    xyz: [usize; 3],
) -> Result<Vec<[f64; 3]>, String> {
    let be = body.big_endian;
    let ty = |i: usize| match e.props[i].kind {
        Kind::Scalar(s) => s,
        Kind::List { .. } => Scalar::F64,
    };
    let t = [ty(xyz[0]), ty(xyz[1]), ty(xyz[2])];
    let mut out = Vec::with_capacity(body.reserve(e.count));
    if let (Some(stride), Some(offs)) = (e.fixed_stride(), e.offsets()) {
        // Fast path: fixed-size rows, a chunk at a time.
        let o = [offs[xyz[0]], offs[xyz[1]], offs[xyz[2]]];
        let per_chunk = (CHUNK / stride.max(1)).max(1);
        let mut row = 0;
        while row < e.count {
            let n = per_chunk.min(e.count - row);
            let chunk = body.take(n * stride, "vertex", row)?;
            if !be && t == [Scalar::F32; 3] {
                for r in chunk.chunks_exact(stride) {
                    let f = |k: usize| {
                        let a: [u8; 4] = r[o[k]..o[k] + 4].try_into().unwrap_or([0; 4]);
                        f32::from_le_bytes(a) as f64
                    };
                    out.push([f(0), f(1), f(2)]);
                }
            } else {
                for r in chunk.chunks_exact(stride) {
                    out.push([0, 1, 2].map(|k| scalar_at(&r[o[k]..], t[k], be)));
                }
            }
            row += n;
        }
        return Ok(out);
    }
    // General path: some vertex property is a list.
    for row in 0..e.count {
        let mut v = [0.0; 3];
        for (pi, p) in e.props.iter().enumerate() {
            match p.kind {
                Kind::Scalar(s) => {
                    let b = body.take(s.size(), "vertex", row)?;
                    if let Some(k) = xyz.iter().position(|&x| x == pi) {
                        v[k] = scalar_at(b, s, be);
                    }
                }
                Kind::List { count, item } => {
                    let n = body.list_len(count, "vertex", row)?;
                    body.take(n * item.size(), "vertex", row)?;
                }
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn push_polygon(faces: &mut Vec<[u32; 3]>, poly: &[i64], row: usize) -> Result<(), String> {
    for &i in poly {
        if i < 0 || i > u32::MAX as i64 {
            return Err(format!("face {row}: vertex index {i} is out of range"));
        }
    }
    for k in 1..poly.len().saturating_sub(1) {
        faces.push([poly[0] as u32, poly[k] as u32, poly[k + 1] as u32]);
    }
    Ok(())
}

pub(super) fn binary_faces<R: BufRead>(
    body: &mut Body<R>,
    e: &Element,
    list: usize,
) -> Result<Vec<[u32; 3]>, String> {
    let be = body.big_endian;
    let mut faces = Vec::with_capacity(body.reserve(e.count));
    let mut poly: Vec<i64> = Vec::with_capacity(8);
    for row in 0..e.count {
        for (pi, p) in e.props.iter().enumerate() {
            match p.kind {
                Kind::Scalar(s) => {
                    body.take(s.size(), "face", row)?;
                }
                Kind::List { count, item } => {
                    let n = body.list_len(count, "face", row)?;
                    let b = body.take(n * item.size(), "face", row)?;
                    if pi == list {
                        poly.clear();
                        poly.extend(b.chunks_exact(item.size()).map(|c| int_at(c, item, be)));
                        push_polygon(&mut faces, &poly, row)?;
                    }
                }
            }
        }
    }
    Ok(faces)
}

pub(super) fn binary_skip<R: BufRead>(body: &mut Body<R>, e: &Element) -> Result<(), String> {
    if let Some(stride) = e.fixed_stride() {
        return body.skip((e.count as u64).saturating_mul(stride as u64), &e.name);
    }
    for row in 0..e.count {
        for p in &e.props {
            match p.kind {
                Kind::Scalar(s) => {
                    body.take(s.size(), &e.name, row)?;
                }
                Kind::List { count, item } => {
                    let n = body.list_len(count, &e.name, row)?;
                    body.take(n * item.size(), &e.name, row)?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn ascii_vertices<R: BufRead>(
    body: &mut Body<R>,
    e: &Element,
    xyz: [usize; 3],
) -> Result<Vec<[f64; 3]>, String> {
    let mut out = Vec::with_capacity(body.reserve(e.count));
    for row in 0..e.count {
        let mut v = [0.0; 3];
        for (pi, p) in e.props.iter().enumerate() {
            match xyz.iter().position(|&x| x == pi) {
                Some(k) => v[k] = body.float("vertex", row)?,
                None => body.ascii_skip_prop(&p.kind, "vertex", row)?,
            }
        }
        out.push(v);
    }
    Ok(out)
}

pub(super) fn ascii_faces<R: BufRead>(
    body: &mut Body<R>,
    e: &Element,
    list: usize,
) -> Result<Vec<[u32; 3]>, String> {
    let mut faces = Vec::with_capacity(body.reserve(e.count));
    let mut poly: Vec<i64> = Vec::with_capacity(8);
    for row in 0..e.count {
        for (pi, p) in e.props.iter().enumerate() {
            if pi != list {
                body.ascii_skip_prop(&p.kind, "face", row)?;
                continue;
            }
            let n = body.ascii_len("face", row)?;
            poly.clear();
            for _ in 0..n {
                poly.push(body.int("face", row)?);
            }
            push_polygon(&mut faces, &poly, row)?;
        }
    }
    Ok(faces)
}

pub(super) fn ascii_skip<R: BufRead>(body: &mut Body<R>, e: &Element) -> Result<(), String> {
    for row in 0..e.count {
        for p in &e.props {
            body.ascii_skip_prop(&p.kind, &e.name, row)?;
        }
    }
    Ok(())
}
