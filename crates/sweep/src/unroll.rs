//! A tiny WGSL preprocessor: fixes override constants and unrolls the loops marked `// unroll`.
//!
//! llvmpipe keeps a private array in registers only when every index is a constant; a loop
//! variable index sends each access through per-lane scratch memory, several times slower. The
//! shaders are written as plain, valid WGSL; for the loops marked
//! `for (var i = A; i < B; i++) { // unroll` (`A` an integer literal, `B` a literal or a name
//! given to [`unroll`]) this writes the body once per value of `i`, each copy in its own block
//! with the identifier `i` replaced by the literal `{value}u`. The meaning is unchanged.

/// Replaces each `override NAME: u32 = ...;` declaration named in `consts` by
/// `const NAME: u32 = VALUE;`.
pub(crate) fn fix_overrides(src: &str, consts: &[(&str, u32)]) -> String {
    src.lines()
        .map(|line| {
            let t = line.trim_start();
            for (name, value) in consts {
                if t.starts_with(&format!("override {name}:")) {
                    return format!("const {name}: u32 = {value}u;");
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Unrolls every loop marked `// unroll` (nested ones included).
pub(crate) fn unroll(src: &str, consts: &[(&str, u32)]) -> Result<String, String> {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    let mut changed = false;
    while i < lines.len() {
        let line = lines[i];
        let Some((var, start, bound)) = parse_marker(line, consts)? else {
            out.push(line.to_string());
            i += 1;
            continue;
        };
        // Body: up to the brace that closes the loop's.
        let mut depth = 1i32;
        let mut body = Vec::new();
        i += 1;
        loop {
            let l = lines
                .get(i)
                .ok_or_else(|| format!("unclosed unrolled loop over {var}"))?;
            depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
            if depth <= 0 {
                break;
            }
            body.push(*l);
            i += 1;
        }
        i += 1; // the closing brace
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        for value in start..bound {
            out.push(format!("{indent}{{"));
            for l in &body {
                out.push(replace_ident(l, &var, &format!("{value}u")));
            }
            out.push(format!("{indent}}}"));
        }
        changed = true;
    }
    let text = out.join("\n");
    if changed {
        unroll(&text, consts)
    } else {
        Ok(text)
    }
}

/// `for (var i = 0u; i < B; i++) { // unroll` → `(i, 0, value of B)`.
fn parse_marker(line: &str, consts: &[(&str, u32)]) -> Result<Option<(String, u32, u32)>, String> {
    let t = line.trim();
    if !(t.starts_with("for (var ") && t.ends_with("{ // unroll")) {
        return Ok(None);
    }
    let inner = t
        .strip_prefix("for (var ")
        .and_then(|r| r.strip_suffix(") { // unroll"))
        .ok_or_else(|| format!("malformed unroll marker: {t}"))?;
    let parts: Vec<&str> = inner.split(';').map(str::trim).collect();
    let [init, cond, step] = parts[..] else {
        return Err(format!("malformed unroll marker: {t}"));
    };
    let (var, start) = init
        .split_once('=')
        .ok_or_else(|| format!("malformed unroll init: {t}"))?;
    let var = var.trim().to_string();
    let number = |s: &str| -> Result<u32, String> {
        let s = s.trim();
        let s = s.strip_suffix('u').unwrap_or(s);
        s.parse().or_else(|_| {
            consts
                .iter()
                .find(|(n, _)| *n == s)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("unroll bound {s:?} is not a known constant"))
        })
    };
    let start = number(start)?;
    let bound = cond
        .strip_prefix(&format!("{var} <"))
        .ok_or_else(|| format!("unroll condition must be `{var} < BOUND`: {t}"))?;
    let bound = number(bound)?;
    if step != format!("{var}++") {
        return Err(format!("unroll step must be `{var}++`: {t}"));
    }
    Ok(Some((var, start, bound)))
}

/// Replaces the identifier `name` (whole words, not after a `.`) by `with`.
fn replace_ident(line: &str, name: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    while let Some(pos) = line[at..].find(name).map(|p| p + at) {
        let before = line[..pos].chars().next_back();
        let after = line[pos + name.len()..].chars().next();
        out.push_str(&line[at..pos]);
        if before.is_some_and(|c| is_ident(c) || c == '.') || after.is_some_and(is_ident) {
            out.push_str(name);
        } else {
            out.push_str(with);
        }
        at = pos + name.len();
    }
    out.push_str(&line[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrolls_nested_marked_loops_only() {
        let src = "fn f() {\n    for (var i = 1u; i < N; i++) { // unroll\n        a[i] = i;\n        for (var j = 0u; j < 2u; j++) { // unroll\n            b[i][j] = ij + j;\n        }\n    }\n    for (var k = 0u; k < 3u; k++) {\n        c[k] = 0;\n    }\n}";
        let out = unroll(src, &[("N", 3)]).unwrap();
        assert!(out.contains("a[1u] = 1u;") && out.contains("a[2u] = 2u;"));
        assert!(!out.contains("a[0u]") && !out.contains("a[3u]"));
        assert!(out.contains("b[2u][1u] = ij + 1u;"), "{out}");
        assert_eq!(
            replace_ident("acc += c + c_1 + x.c;", "c", "7u"),
            "acc += 7u + c_1 + x.c;"
        );
        assert!(out.contains("for (var k = 0u; k < 3u; k++) {"));
        assert!(unroll("for (var i = 0u; i < M; i++) { // unroll\n}", &[]).is_err());
    }

    #[test]
    fn overrides_become_constants() {
        let out = fix_overrides(
            "override WIN: u32 = 11u;\noverride X: u32 = 1u;",
            &[("WIN", 7)],
        );
        assert_eq!(out, "const WIN: u32 = 7u;\noverride X: u32 = 1u;");
    }
}
