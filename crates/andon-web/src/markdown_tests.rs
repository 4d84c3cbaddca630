use super::render;

#[test]
fn a_document_renders_with_headings_lists_tables_and_code() {
    let html = render(
        "# Request for change CHG-1\n\n- one\n- two\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```\nBEGIN\n```\n",
    )
    .into_string();
    assert!(html.contains("<h1>Request for change CHG-1</h1>"), "{html}");
    assert!(html.contains("<li>one</li>"), "{html}");
    assert!(
        html.contains("<table>") && html.contains("<td>2</td>"),
        "{html}"
    );
    assert!(html.contains("<pre><code>BEGIN\n</code></pre>"), "{html}");
}

#[test]
fn raw_html_is_shown_as_text_not_run() {
    let html =
        render("risk: <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n").into_string();
    assert!(
        !html.contains("<script>") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

#[test]
fn only_web_and_interface_links_are_kept_and_images_fetch_nothing() {
    let html = render(
        "[run](javascript:alert(1)) [data](data:text/html,x) [pr](https://github.com/a/b/pull/1) [change](/ui/changes/CHG-1) ![tracker](https://evil.example/p.png) [far](//evil.example/x)",
    )
    .into_string();
    assert!(
        !html.contains("javascript:") && !html.contains("data:"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://github.com/a/b/pull/1\">pr</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"/ui/changes/CHG-1\">change</a>"),
        "{html}"
    );
    assert!(!html.contains("<img") && html.contains("tracker"), "{html}");
    assert!(
        !html.contains("//evil.example") && html.contains("far"),
        "{html}"
    );
    assert!(
        html.contains("run") && html.contains("data"),
        "the text stays: {html}"
    );
}
