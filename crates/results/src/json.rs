//! Reading and writing: parse with the field named in errors, validation errors, pretty output.

use serde::Serialize;

use crate::ResultsError;

/// Parses `json` as a `T`; an error names `what` and, for a wrong value, the key nearest
/// before it.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    what: &str,
    json: &str,
) -> Result<T, ResultsError> {
    serde_json::from_str(json).map_err(|error| {
        // serde_json names a missing field but not the field holding a wrong value (or a
        // number out of range, like 1e400): name the last key before the error position.
        let near = match error.classify() {
            serde_json::error::Category::Data | serde_json::error::Category::Syntax => {
                last_key_before(json, error.line(), error.column())
            }
            _ => None,
        };
        ResultsError::Json {
            what: near.map_or_else(|| what.to_owned(), |key| format!("{what} (at `{key}`)")),
            error,
        }
    })
}

/// The last `"key":` that starts before 1-based (`line`, `column`) in `json`.
fn last_key_before(json: &str, line: usize, column: usize) -> Option<String> {
    let line_start: usize = json
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = (line_start + column).min(json.len());
    let head = json.get(..end)?;
    let mut search = head;
    while let Some(colon) = search.rfind(':') {
        let before = search[..colon].trim_end();
        if let Some(without_quote) = before.strip_suffix('"')
            && let Some(open) = without_quote.rfind('"')
        {
            let key = &without_quote[open + 1..];
            if !key.is_empty() && !key.contains(['{', '}', ',', ':']) {
                return Some(key.to_owned());
            }
        }
        search = &search[..colon];
    }
    None
}

/// A validation error about `what`.
pub(crate) fn invalid(what: &str, message: impl Into<String>) -> ResultsError {
    ResultsError::Invalid {
        what: what.to_owned(),
        message: message.into(),
    }
}

/// Two-space indentation and a final newline.
pub(crate) fn to_pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("results serialise to JSON");
    s.push('\n');
    s
}
