//! The PLY header: magic, format, elements and their properties, read with a bounded reader.

use std::io::{BufRead, Read};

/// Longest PLY header read, bytes: a real header is a few hundred bytes; a file without
/// `end_header` in its first 64 KiB is not a PLY file (or not one worth reading).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "char" | "int8" => Self::I8,
            "uchar" | "uint8" => Self::U8,
            "short" | "int16" => Self::I16,
            "ushort" | "uint16" => Self::U16,
            "int" | "int32" => Self::I32,
            "uint" | "uint32" => Self::U32,
            "float" | "float32" => Self::F32,
            "double" | "float64" => Self::F64,
            _ => return None,
        })
    }
    pub(super) fn size(self) -> usize {
        match self {
            Self::I8 | Self::U8 => 1,
            Self::I16 | Self::U16 => 2,
            Self::I32 | Self::U32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }
    pub(super) fn is_integer(self) -> bool {
        !matches!(self, Self::F32 | Self::F64)
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Scalar(Scalar),
    List { count: Scalar, item: Scalar },
}

#[derive(Debug)]
pub(super) struct Prop {
    pub(super) name: String,
    pub(super) kind: Kind,
}

#[derive(Debug)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) count: usize,
    pub(super) props: Vec<Prop>,
}

impl Element {
    /// Bytes per row when no property is a list.
    pub(super) fn fixed_stride(&self) -> Option<usize> {
        self.props.iter().try_fold(0, |acc, p| match p.kind {
            Kind::Scalar(s) => Some(acc + s.size()),
            Kind::List { .. } => None,
        })
    }
    /// The smallest possible size of the element's rows in bytes: binary rows with every
    /// list empty; ASCII rows with one character per value (`u64::MAX` on overflow).
    pub(super) fn min_bytes(&self, format: Format) -> u64 {
        let row: usize = match format {
            Format::Ascii => self.props.len(),
            Format::Binary { .. } => self
                .props
                .iter()
                .map(|p| match p.kind {
                    Kind::Scalar(s) => s.size(),
                    Kind::List { count, .. } => count.size(),
                })
                .sum(),
        };
        (self.count as u64).saturating_mul(row as u64)
    }
    /// Byte offset of each property in a row, when no property is a list.
    pub(super) fn offsets(&self) -> Option<Vec<usize>> {
        let mut off = 0;
        let mut v = Vec::with_capacity(self.props.len());
        for p in &self.props {
            v.push(off);
            match p.kind {
                Kind::Scalar(s) => off += s.size(),
                Kind::List { .. } => return None,
            }
        }
        Some(v)
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Format {
    Ascii,
    Binary { big_endian: bool },
}

#[derive(Debug)]
pub(super) struct Header {
    pub(super) format: Format,
    pub(super) elements: Vec<Element>,
    /// Bytes of the header, `end_header` line included: where the body starts.
    pub(super) len: u64,
}

impl Header {
    /// Reads the header from `r`, which is left at the first byte of the body. Reads at most
    /// [`MAX_HEADER_BYTES`], and only 5 bytes of a file that does not start with `ply`.
    pub(super) fn read(r: &mut impl BufRead) -> Result<Self, String> {
        let io = |e: std::io::Error| format!("reading the PLY header: {e}");
        let mut line = Vec::new();
        r.by_ref()
            .take(5)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if !(line == b"ply\n" || line == b"ply\r\n") {
            return Err("not a PLY file (it does not start with `ply`)".into());
        }
        let mut len = line.len();
        let mut format = None;
        let mut elements: Vec<Element> = Vec::new();
        let mut limited = r.by_ref().take((MAX_HEADER_BYTES - len) as u64);
        for lineno in 2.. {
            line.clear();
            len += limited.read_until(b'\n', &mut line).map_err(io)?;
            let text = std::str::from_utf8(&line).map_err(|_| "PLY header is not UTF-8")?;
            let text = text.trim_end_matches(['\n', '\r', ' ', '\t']);
            let complete = line.ends_with(b"\n");
            if text == "end_header" && (complete || len < MAX_HEADER_BYTES) {
                break;
            }
            if !complete {
                // The end of the file, or of the bytes a header may take.
                return Err(if len >= MAX_HEADER_BYTES {
                    format!(
                        "no `end_header` line in the first {} KiB: not a PLY header",
                        MAX_HEADER_BYTES / 1024
                    )
                } else {
                    "no `end_header` line: the PLY header is truncated or malformed".into()
                });
            }
            parse_line(text, lineno, &mut format, &mut elements)?;
        }
        Ok(Self {
            format: format.ok_or("no `format` line in the PLY header")?,
            elements,
            len: len as u64,
        })
    }
}

fn parse_line(
    line: &str,
    lineno: usize,
    format: &mut Option<Format>,
    elements: &mut Vec<Element>,
) -> Result<(), String> {
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let bad = || format!("PLY header line {lineno}: cannot parse `{line}`");
    match words.as_slice() {
        [] => {}
        ["comment" | "obj_info", ..] => {}
        ["format", f, _version] => {
            *format = Some(match *f {
                "ascii" => Format::Ascii,
                "binary_little_endian" => Format::Binary { big_endian: false },
                "binary_big_endian" => Format::Binary { big_endian: true },
                _ => return Err(format!("unknown PLY format `{f}`")),
            })
        }
        ["element", name, count] => elements.push(Element {
            name: (*name).to_owned(),
            count: count.parse().map_err(|_| bad())?,
            props: Vec::new(),
        }),
        ["property", "list", c, i, name] => {
            let e = elements.last_mut().ok_or_else(bad)?;
            let count = Scalar::parse(c).ok_or_else(|| format!("unknown PLY type `{c}`"))?;
            let item = Scalar::parse(i).ok_or_else(|| format!("unknown PLY type `{i}`"))?;
            if !count.is_integer() {
                return Err(format!("list count type `{c}` is not an integer type"));
            }
            e.props.push(Prop {
                name: (*name).to_owned(),
                kind: Kind::List { count, item },
            });
        }
        ["property", t, name] => {
            let e = elements.last_mut().ok_or_else(bad)?;
            let s = Scalar::parse(t).ok_or_else(|| format!("unknown PLY type `{t}`"))?;
            e.props.push(Prop {
                name: (*name).to_owned(),
                kind: Kind::Scalar(s),
            });
        }
        _ => return Err(bad()),
    }
    Ok(())
}
