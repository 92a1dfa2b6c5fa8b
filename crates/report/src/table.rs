//! A format-neutral table and its three renderings: terminal (tabled), reStructuredText
//! `list-table`, and Markdown. Plus the number formats every table uses.
//!
//! **No cell is ever empty and no cell ever says NaN:** a missing value prints as `—`, a
//! non-finite one as `n/a`.

use tabled::builder::Builder;
use tabled::settings::peaker::PriorityMax;
use tabled::settings::{Style, Width};

/// Width the terminal tables wrap to.
pub const TERMINAL_WIDTH: usize = 120;

/// A titled table of text cells (the first row is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Title: the `list-table` argument in rst, a bold line above the table elsewhere.
    pub title: String,
    /// Column headings.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a title and column headings and no rows yet.
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Self {
            title: title.into(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row. **Panics** if its length differs from the header's (a programming
    /// error in this crate, not bad input).
    pub fn push(&mut self, row: Vec<String>) {
        assert_eq!(row.len(), self.header.len(), "row length != header length");
        self.rows.push(row);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// For the terminal: the title (if any), then a box-drawn table at most
    /// [`TERMINAL_WIDTH`] columns wide (the widest columns wrap, between words).
    pub fn to_terminal(&self) -> String {
        let mut builder = Builder::new();
        builder.push_record(self.header.iter().map(|s| cell(s)));
        for row in &self.rows {
            builder.push_record(row.iter().map(|s| cell(s)));
        }
        let mut table = builder.build();
        table.with(Style::modern()).with(
            Width::wrap(TERMINAL_WIDTH)
                .keep_words(true)
                .priority(PriorityMax::new(false)),
        );
        if self.title.is_empty() {
            format!("{table}\n")
        } else {
            format!("{}\n{table}\n", self.title)
        }
    }

    /// A reStructuredText `.. list-table::` directive titled with [`Table::title`]. A table
    /// without rows still renders its header.
    pub fn to_rst(&self) -> String {
        let mut out = if self.title.is_empty() {
            ".. list-table::\n".to_owned()
        } else {
            format!(".. list-table:: {}\n", rst_escape_inline(&self.title))
        };
        out.push_str("   :header-rows: 1\n\n");
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in row.iter().enumerate() {
                let bullet = if i == 0 { "   * - " } else { "     - " };
                out.push_str(bullet);
                out.push_str(&rst_escape_inline(cell(c)));
                out.push('\n');
            }
        }
        out
    }

    /// A GitHub-flavoured Markdown table preceded by the title (if any) in bold.
    pub fn to_markdown(&self) -> String {
        let mut out = if self.title.is_empty() {
            String::new()
        } else {
            format!("**{}**\n\n", md_escape(&self.title))
        };
        let line = |row: &[String]| {
            let cells: Vec<String> = row.iter().map(|c| md_escape(cell(c))).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        out.push_str(&line(&self.header));
        out.push('|');
        for _ in &self.header {
            out.push_str("---|");
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

fn cell(s: &str) -> &str {
    if s.trim().is_empty() { "—" } else { s }
}

/// Escapes reStructuredText inline markup characters (`\`, `*`, `` ` ``, `|`, `_`) and folds
/// line breaks to spaces.
pub fn rst_escape_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '`' | '|' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes Markdown table-breaking and emphasis characters (`\`, `|`, `*`, `<`) and folds
/// line breaks to spaces.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '*' | '<' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// `value` with `decimals` decimals; `n/a` if not finite.
pub fn fixed(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        // Avoid printing "-0.0".
        let s = format!("{value:.decimals$}");
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_owned()
        } else {
            s
        }
    } else {
        "n/a".to_owned()
    }
}

/// Like [`fixed`]; `—` for `None`.
pub fn opt_fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".to_owned(), |v| fixed(v, decimals))
}

/// A speed-up factor: `2.13×`.
pub fn speedup(value: f64) -> String {
    if value.is_finite() {
        format!("{}×", fixed(value, 2))
    } else {
        "n/a".to_owned()
    }
}

/// A rate with an SI prefix and three significant figures: `4.52 M`, `812 k`, `12.0 G`.
pub fn si(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let (scaled, prefix) = [(1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")]
        .iter()
        .find(|(scale, _)| value.abs() >= *scale)
        .map_or((value, ""), |(scale, p)| (value / scale, *p));
    let decimals = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{}{prefix}", fixed(scaled, decimals))
}

/// An integer with thin thousands separators: `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(fixed(1.23456, 2), "1.23");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(f64::NAN, 2), "n/a");
        assert_eq!(opt_fixed(None, 1), "—");
        assert_eq!(speedup(2.0), "2.00×");
        assert_eq!(si(4_520_000.0), "4.52 M");
        assert_eq!(si(812_000.0), "812 k");
        assert_eq!(si(12.5), "12.5");
        assert_eq!(si(3.0), "3.00");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn renders() {
        let mut t = Table::new("T_x", &["stage", "ms"]);
        t.push(vec!["depth_estimation".into(), "".into()]);
        let rst = t.to_rst();
        assert_eq!(
            rst,
            ".. list-table:: T\\_x\n   :header-rows: 1\n\n   * - stage\n     - ms\n   * - depth\\_estimation\n     - —\n"
        );
        let md = t.to_markdown();
        assert_eq!(
            md,
            "**T_x**\n\n| stage | ms |\n|---|---|\n| depth_estimation | — |\n"
        );
        let term = t.to_terminal();
        assert!(term.starts_with("T_x\n"));
        assert!(term.contains("depth_estimation"));
    }
}
