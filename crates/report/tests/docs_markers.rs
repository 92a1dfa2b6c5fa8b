//! Generated regions: what is replaced, what is kept byte for byte, and every way the markers
//! can be wrong.

use aquamvs_report::docs::{
    DocsError, MarkerStyle, check_regions, find_regions, frontmatter_value, replace_regions,
    set_frontmatter,
};

const RST: &str = "Title\n=====\n\nHand-written *intro* with trailing spaces   \n\n\
.. BEGIN GENERATED: a\n\nold a\n\n.. END GENERATED: a\n\nMiddle text ☃\n\
.. BEGIN GENERATED: b\n.. END GENERATED: b\nTail without final newline";

fn reps(a: &str, b: &str) -> Vec<(&'static str, String)> {
    vec![("a", a.to_owned()), ("b", b.to_owned())]
}

/// Everything outside the region bodies, in order.
fn outside(text: &str, style: MarkerStyle) -> Vec<String> {
    let regions = find_regions(text, style).unwrap();
    let mut out = Vec::new();
    let mut cursor = 0;
    for r in regions {
        out.push(text[cursor..r.body.start].to_owned());
        cursor = r.body.end;
    }
    out.push(text[cursor..].to_owned());
    out
}

#[test]
fn replaces_only_between_markers() {
    let new = replace_regions(RST, MarkerStyle::Rst, &reps("new a", "new\nb")).unwrap();
    assert_eq!(
        new,
        "Title\n=====\n\nHand-written *intro* with trailing spaces   \n\n\
.. BEGIN GENERATED: a\n\nnew a\n\n.. END GENERATED: a\n\nMiddle text ☃\n\
.. BEGIN GENERATED: b\n\nnew\nb\n\n.. END GENERATED: b\nTail without final newline"
    );
    assert_eq!(
        outside(&new, MarkerStyle::Rst),
        outside(RST, MarkerStyle::Rst)
    );
}

#[test]
fn idempotent() {
    let once = replace_regions(RST, MarkerStyle::Rst, &reps("x\n\n\n", "\n\ny")).unwrap();
    let twice = replace_regions(&once, MarkerStyle::Rst, &reps("x\n\n\n", "\n\ny")).unwrap();
    assert_eq!(once, twice);
    // Emptying a region is stable too.
    let empty = replace_regions(&once, MarkerStyle::Rst, &reps("", "")).unwrap();
    assert_eq!(
        replace_regions(&empty, MarkerStyle::Rst, &reps("", "")).unwrap(),
        empty
    );
}

#[test]
fn crlf_page_stays_crlf_throughout() {
    let text = "a\r\n.. BEGIN GENERATED: a\r\nold\r\n.. END GENERATED: a\r\nb\r\n\
.. BEGIN GENERATED: b\r\n.. END GENERATED: b\r\n";
    let new = replace_regions(text, MarkerStyle::Rst, &reps("1\nline two", "2")).unwrap();
    assert_eq!(
        new,
        "a\r\n.. BEGIN GENERATED: a\r\n\r\n1\r\nline two\r\n\r\n.. END GENERATED: a\r\nb\r\n\
.. BEGIN GENERATED: b\r\n\r\n2\r\n\r\n.. END GENERATED: b\r\n"
    );
    // Not one bare `\n`.
    assert_eq!(new.matches('\n').count(), new.matches("\r\n").count());
    assert_eq!(
        outside(&new, MarkerStyle::Rst),
        outside(text, MarkerStyle::Rst)
    );
    // Idempotent, and content already in CRLF is not doubled.
    assert_eq!(
        replace_regions(&new, MarkerStyle::Rst, &reps("1\r\nline two", "2")).unwrap(),
        new
    );
    // A Markdown page with frontmatter, as the verification file is patched.
    let md =
        "---\r\nstatus: x\r\n---\r\n<!-- BEGIN GENERATED: a -->\r\n<!-- END GENERATED: a -->\r\n";
    let md = set_frontmatter(md, &[("status", "gaps_found".to_owned())]).unwrap();
    let md = replace_regions(
        &md,
        MarkerStyle::Markdown,
        &[("a", "| x |\n|---|".to_owned())],
    )
    .unwrap();
    assert_eq!(
        md.matches('\n').count(),
        md.matches("\r\n").count(),
        "{md:?}"
    );
    assert!(md.starts_with("---\r\nstatus: gaps_found\r\n---\r\n"));
    // The page's own ending decides: a mostly-LF page keeps LF.
    assert_eq!(aquamvs_report::docs::line_ending("a\nb\nc\r\n"), "\n");
    assert_eq!(aquamvs_report::docs::line_ending("a\r\nb\r\nc\n"), "\r\n");
}

#[test]
fn markdown_markers() {
    let md = "# T\n<!-- BEGIN GENERATED: a -->\nx\n<!-- END GENERATED: a -->\n\
<!--BEGIN GENERATED: b-->\n<!-- END GENERATED: b -->\n";
    let new = replace_regions(md, MarkerStyle::Markdown, &reps("| 1 |", "two")).unwrap();
    assert_eq!(
        new,
        "# T\n<!-- BEGIN GENERATED: a -->\n\n| 1 |\n\n<!-- END GENERATED: a -->\n\
<!--BEGIN GENERATED: b-->\n\ntwo\n\n<!-- END GENERATED: b -->\n"
    );
    // rst markers mean nothing in Markdown and vice versa.
    assert!(find_regions(RST, MarkerStyle::Markdown).unwrap().is_empty());
    assert!(find_regions(md, MarkerStyle::Rst).unwrap().is_empty());
}

#[test]
fn indented_markers_are_text() {
    // A marker shown in a code block (indented) is not a marker.
    let text = "::\n\n   .. BEGIN GENERATED: a\n\n.. BEGIN GENERATED: a\n.. END GENERATED: a\n\
.. BEGIN GENERATED: b\n.. END GENERATED: b\n";
    assert!(replace_regions(text, MarkerStyle::Rst, &reps("1", "2")).is_ok());
}

#[test]
fn missing_region() {
    let text = RST.replace(".. BEGIN GENERATED: b\n.. END GENERATED: b\n", "");
    assert_eq!(
        replace_regions(&text, MarkerStyle::Rst, &reps("1", "2")),
        Err(DocsError::Missing { name: "b".into() })
    );
    // No markers at all.
    assert_eq!(
        replace_regions("plain\n", MarkerStyle::Rst, &reps("1", "2")),
        Err(DocsError::Missing { name: "a".into() })
    );
}

#[test]
fn duplicated_region() {
    let text = format!("{RST}\n.. BEGIN GENERATED: a\n.. END GENERATED: a\n");
    assert_eq!(
        replace_regions(&text, MarkerStyle::Rst, &reps("1", "2")),
        Err(DocsError::Duplicated {
            name: "a".into(),
            first: 6,
            second: 16
        })
    );
}

#[test]
fn out_of_order() {
    let text =
        ".. BEGIN GENERATED: b\n.. END GENERATED: b\n.. BEGIN GENERATED: a\n.. END GENERATED: a\n";
    assert!(matches!(
        replace_regions(text, MarkerStyle::Rst, &reps("1", "2")),
        Err(DocsError::OutOfOrder { name, line: 1, .. }) if name == "b"
    ));
}

#[test]
fn unbalanced_markers() {
    let cases = [
        // Begin never closed.
        ".. BEGIN GENERATED: a\ntext\n",
        // End without begin.
        "text\n.. END GENERATED: a\n",
        // End closes another region.
        ".. BEGIN GENERATED: a\n.. END GENERATED: b\n",
        // Nested.
        ".. BEGIN GENERATED: a\n.. BEGIN GENERATED: b\n.. END GENERATED: b\n.. END GENERATED: a\n",
    ];
    for case in cases {
        assert!(
            matches!(
                replace_regions(case, MarkerStyle::Rst, &reps("1", "2")),
                Err(DocsError::Unbalanced { .. })
            ),
            "{case:?}"
        );
    }
}

#[test]
fn malformed_and_unknown_markers() {
    for bad in [
        ".. BEGIN GENERATED a\n",
        ".. BEGIN GENERATED:\n",
        ".. END GENERATED: two words\n",
    ] {
        assert!(
            matches!(
                find_regions(bad, MarkerStyle::Rst),
                Err(DocsError::Malformed { line: 1, .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        find_regions("<!-- BEGIN GENERATED: a\n", MarkerStyle::Markdown),
        Err(DocsError::Malformed { .. })
    ));
    let extra = format!("{RST}\n.. BEGIN GENERATED: c\n.. END GENERATED: c\n");
    assert!(matches!(
        check_regions(&extra, MarkerStyle::Rst, &["a", "b"]),
        Err(DocsError::Unknown { name, .. }) if name == "c"
    ));
}

#[test]
fn frontmatter_keys() {
    let text = "---\nphase: 05\nverified: old\nstatus: gaps_found\nscore: 1/4 x\nlist:\n  - status: keep\n---\n\nstatus: body is not frontmatter\n";
    let new = set_frontmatter(
        text,
        &[
            ("status", "gaps_closed".to_owned()),
            ("score", "4/4 success criteria verified".to_owned()),
            ("verified", "2026-01-01T00:00:00Z".to_owned()),
        ],
    )
    .unwrap();
    assert_eq!(
        new,
        "---\nphase: 05\nverified: 2026-01-01T00:00:00Z\nstatus: gaps_closed\nscore: 4/4 success criteria verified\nlist:\n  - status: keep\n---\n\nstatus: body is not frontmatter\n"
    );
    assert_eq!(
        frontmatter_value(&new, "status").unwrap().as_deref(),
        Some("gaps_closed")
    );
    assert_eq!(
        set_frontmatter(text, &[("missing", "x".into())]),
        Err(DocsError::MissingKey {
            key: "missing".into()
        })
    );
    assert_eq!(
        set_frontmatter("no frontmatter\n", &[("status", "x".into())]),
        Err(DocsError::NoFrontmatter)
    );
    assert_eq!(
        set_frontmatter("---\nstatus: a\n", &[("status", "x".into())]),
        Err(DocsError::NoFrontmatter)
    );
    assert_eq!(
        set_frontmatter(
            "---\nstatus: a\nstatus: b\n---\n",
            &[("status", "x".into())]
        ),
        Err(DocsError::DuplicatedKey {
            key: "status".into()
        })
    );
    // A key that is a prefix of another is not confused with it.
    let t = "---\nstatus_old: a\nstatus: b\n---\n";
    assert_eq!(
        set_frontmatter(t, &[("status", "c".into())]).unwrap(),
        "---\nstatus_old: a\nstatus: c\n---\n"
    );
}
