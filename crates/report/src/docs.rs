//! Generated regions in hand-written files: pure functions on strings.
//!
//! A region is the text between a begin and an end marker line:
//!
//! - reStructuredText: `.. BEGIN GENERATED: <name>` … `.. END GENERATED: <name>` (a comment);
//! - Markdown: `<!-- BEGIN GENERATED: <name> -->` … `<!-- END GENERATED: <name> -->`.
//!
//! [`replace_regions`] rewrites only what lies between the markers; **every byte outside the
//! regions, the marker lines included, is kept as it is**, and rewriting with the same content
//! is a no-op (idempotent). The new body is always `"\n" + content + "\n\n"` (a blank line after
//! the begin marker and before the end marker, which reStructuredText needs to end the comment
//! and the block before it), **with the page's own line ending**: a CRLF page gets `\r\n`
//! throughout.
//!
//! The file must hold exactly the expected regions, each once, in the expected order; anything
//! else is a [`DocsError`] and no text is produced. [`set_frontmatter`] does the same for the
//! values of a YAML frontmatter's top-level keys.

use std::ops::Range;

/// Which comment syntax the markers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerStyle {
    /// `.. BEGIN GENERATED: name` / `.. END GENERATED: name`.
    Rst,
    /// `<!-- BEGIN GENERATED: name -->` / `<!-- END GENERATED: name -->`.
    Markdown,
}

impl MarkerStyle {
    /// The begin marker line for `name` (no newline).
    pub fn begin(self, name: &str) -> String {
        match self {
            Self::Rst => format!(".. BEGIN GENERATED: {name}"),
            Self::Markdown => format!("<!-- BEGIN GENERATED: {name} -->"),
        }
    }

    /// The end marker line for `name` (no newline).
    pub fn end(self, name: &str) -> String {
        match self {
            Self::Rst => format!(".. END GENERATED: {name}"),
            Self::Markdown => format!("<!-- END GENERATED: {name} -->"),
        }
    }

    /// Parses a marker line: `Some((is_begin, name))` for a well-formed one, `Err` for a line
    /// that starts like a marker but is not one, `Ok(None)` for any other line.
    fn parse(self, line: &str) -> Result<Option<(bool, String)>, ()> {
        let line = line.trim_end();
        let (open, close) = match self {
            Self::Rst => (".. ", ""),
            Self::Markdown => ("<!--", "-->"),
        };
        let Some(rest) = line.strip_prefix(open) else {
            return Ok(None);
        };
        let rest = rest.trim_start();
        let (is_begin, rest) = if let Some(r) = rest.strip_prefix("BEGIN GENERATED") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("END GENERATED") {
            (false, r)
        } else {
            return Ok(None);
        };
        let rest = rest.strip_prefix(':').ok_or(())?;
        let rest = rest.trim_end().strip_suffix(close).ok_or(())?;
        let name = rest.trim();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Some((is_begin, name.to_owned())))
        } else {
            Err(())
        }
    }
}

/// Why a file's markers or frontmatter cannot be used. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocsError {
    /// A line looks like a marker but is not well formed.
    #[error("line {line}: malformed marker `{text}`")]
    Malformed {
        /// Line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// An expected region has no begin marker.
    #[error("region `{name}` is missing (no `BEGIN GENERATED: {name}` marker)")]
    Missing {
        /// Region name.
        name: String,
    },
    /// A region appears more than once.
    #[error("region `{name}` appears twice (lines {first} and {second})")]
    Duplicated {
        /// Region name.
        name: String,
        /// First begin marker.
        first: usize,
        /// Second begin marker.
        second: usize,
    },
    /// A begin without its end, an end without its begin, or one region inside another.
    #[error("line {line}: unbalanced marker: {detail}")]
    Unbalanced {
        /// Line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The regions are not in the expected order.
    #[error("region `{name}` (line {line}) is out of order: expected order is {expected}")]
    OutOfOrder {
        /// The first region found out of place.
        name: String,
        /// Its begin line.
        line: usize,
        /// The expected order, comma-separated.
        expected: String,
    },
    /// The file holds a region nobody generates.
    #[error("line {line}: unknown region `{name}` (expected one of {expected})")]
    Unknown {
        /// Region name.
        name: String,
        /// Its begin line.
        line: usize,
        /// The expected names, comma-separated.
        expected: String,
    },
    /// The file does not start with a `---` YAML frontmatter block.
    #[error("no YAML frontmatter (`---` on the first line and a closing `---` line)")]
    NoFrontmatter,
    /// A frontmatter key is missing.
    #[error("frontmatter has no top-level `{key}:` line")]
    MissingKey {
        /// The key.
        key: String,
    },
    /// A frontmatter key appears twice.
    #[error("frontmatter has `{key}:` twice")]
    DuplicatedKey {
        /// The key.
        key: String,
    },
}

/// One region found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Its name.
    pub name: String,
    /// 1-based line number of the begin marker.
    pub begin_line: usize,
    /// Byte range of the body: from just after the begin marker's newline to the start of the
    /// end marker line.
    pub body: Range<usize>,
}

/// Lines with their byte offsets: (start, text without the line break, 1-based number).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str, usize)> {
    let mut start = 0;
    text.split_inclusive('\n').enumerate().map(move |(i, raw)| {
        let s = start;
        start += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        (s, line, i + 1)
    })
}

/// Finds every region of `text`, in file order, checking that markers are well formed,
/// balanced, not nested and not duplicated.
pub fn find_regions(text: &str, style: MarkerStyle) -> Result<Vec<Region>, DocsError> {
    let mut regions: Vec<Region> = Vec::new();
    // (name, begin line, body start)
    let mut open: Option<(String, usize, usize)> = None;
    for (start, line, number) in lines(text) {
        let parsed = style.parse(line).map_err(|()| DocsError::Malformed {
            line: number,
            text: line.to_owned(),
        })?;
        let Some((is_begin, name)) = parsed else {
            continue;
        };
        let line_end = start + line.len();
        let after_newline = text[line_end..]
            .find('\n')
            .map_or(text.len(), |i| line_end + i + 1);
        match (is_begin, open.take()) {
            (true, Some((outer, outer_line, _))) => {
                return Err(DocsError::Unbalanced {
                    line: number,
                    detail: format!(
                        "`{name}` begins inside `{outer}` (opened on line {outer_line})"
                    ),
                });
            }
            (true, None) => {
                if let Some(prev) = regions.iter().find(|r| r.name == name) {
                    return Err(DocsError::Duplicated {
                        name,
                        first: prev.begin_line,
                        second: number,
                    });
                }
                open = Some((name, number, after_newline));
            }
            (false, None) => {
                return Err(DocsError::Unbalanced {
                    line: number,
                    detail: format!("`END GENERATED: {name}` without a begin marker"),
                });
            }
            (false, Some((open_name, open_line, body_start))) => {
                if open_name != name {
                    return Err(DocsError::Unbalanced {
                        line: number,
                        detail: format!(
                            "`END GENERATED: {name}` closes `{open_name}` (opened on line {open_line})"
                        ),
                    });
                }
                regions.push(Region {
                    name,
                    begin_line: open_line,
                    body: body_start..start,
                });
            }
        }
    }
    if let Some((name, line, _)) = open {
        return Err(DocsError::Unbalanced {
            line,
            detail: format!("`BEGIN GENERATED: {name}` is never closed"),
        });
    }
    Ok(regions)
}

/// Checks that `text` holds exactly the regions `expected`, once each, in that order.
pub fn check_regions(
    text: &str,
    style: MarkerStyle,
    expected: &[&str],
) -> Result<Vec<Region>, DocsError> {
    let regions = find_regions(text, style)?;
    let list = expected.join(", ");
    for r in &regions {
        if !expected.contains(&r.name.as_str()) {
            return Err(DocsError::Unknown {
                name: r.name.clone(),
                line: r.begin_line,
                expected: list,
            });
        }
    }
    for name in expected {
        if !regions.iter().any(|r| r.name == *name) {
            return Err(DocsError::Missing {
                name: (*name).to_owned(),
            });
        }
    }
    // Every expected name is present exactly once and nothing else is: same length, so a
    // position-by-position comparison finds the first region out of place.
    for (r, name) in regions.iter().zip(expected) {
        if r.name != *name {
            return Err(DocsError::OutOfOrder {
                name: r.name.clone(),
                line: r.begin_line,
                expected: list,
            });
        }
    }
    Ok(regions)
}

/// The body written between the markers for `content` (`\n` line endings).
pub fn region_body(content: &str) -> String {
    let content = content.trim_matches('\n');
    if content.is_empty() {
        "\n".to_owned()
    } else {
        format!("\n{content}\n\n")
    }
}

/// The line ending a page uses: `"\r\n"` when most of its lines end so, otherwise `"\n"`.
pub fn line_ending(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf { "\r\n" } else { "\n" }
}

/// Replaces the body of each region with its content. `replacements` gives every region the
/// file must hold, **in the order the file must hold them**. Text outside the regions is
/// returned byte-identical. **The generated text takes the page's line ending**
/// ([`line_ending`]), so a CRLF page stays CRLF throughout.
pub fn replace_regions(
    text: &str,
    style: MarkerStyle,
    replacements: &[(&str, String)],
) -> Result<String, DocsError> {
    let names: Vec<&str> = replacements.iter().map(|(n, _)| *n).collect();
    let regions = check_regions(text, style, &names)?;
    let eol = line_ending(text);
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for (region, (_, content)) in regions.iter().zip(replacements) {
        out.push_str(&text[cursor..region.body.start]);
        let body = region_body(&content.replace("\r\n", "\n"));
        if eol == "\n" {
            out.push_str(&body);
        } else {
            out.push_str(&body.replace('\n', eol));
        }
        cursor = region.body.end;
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

/// The byte range of the YAML frontmatter's inside (after the opening `---` line, up to the
/// closing `---` line).
fn frontmatter(text: &str) -> Result<Range<usize>, DocsError> {
    let mut it = lines(text);
    match it.next() {
        Some((_, "---", _)) => {}
        _ => return Err(DocsError::NoFrontmatter),
    }
    let inner_start = text.find('\n').map_or(text.len(), |i| i + 1);
    for (start, line, _) in it {
        if line == "---" {
            return Ok(inner_start..start);
        }
    }
    Err(DocsError::NoFrontmatter)
}

/// Sets top-level frontmatter keys: each `key: …` line becomes `key: value`. Every key must be
/// present exactly once; other lines are kept byte-identical.
pub fn set_frontmatter(text: &str, values: &[(&str, String)]) -> Result<String, DocsError> {
    let range = frontmatter(text)?;
    let inner = &text[range.clone()];
    let mut found: Vec<Option<Range<usize>>> = vec![None; values.len()];
    for (start, line, _) in lines(inner) {
        for (i, (key, _)) in values.iter().enumerate() {
            let is_key = line
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'));
            if is_key {
                if found[i].is_some() {
                    return Err(DocsError::DuplicatedKey {
                        key: (*key).to_owned(),
                    });
                }
                let abs = range.start + start;
                found[i] = Some(abs..abs + line.len());
            }
        }
    }
    let mut spans: Vec<(Range<usize>, String)> = Vec::with_capacity(values.len());
    for ((key, value), span) in values.iter().zip(found) {
        let span = span.ok_or_else(|| DocsError::MissingKey {
            key: (*key).to_owned(),
        })?;
        spans.push((span, format!("{key}: {value}")));
    }
    spans.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for (span, line) in spans {
        out.push_str(&text[cursor..span.start]);
        out.push_str(&line);
        cursor = span.end;
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

/// The value of a top-level frontmatter key (text after `key:`, trimmed), if present.
pub fn frontmatter_value(text: &str, key: &str) -> Result<Option<String>, DocsError> {
    let range = frontmatter(text)?;
    Ok(lines(&text[range]).find_map(|(_, line, _)| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    }))
}
