//! What every handler shares: our JSON errors for extractor rejections, listings as JSON or
//! CSV, optional bodies.

pub(crate) use andon_domain::query::Format;

/// A listing as JSON (`json`, the whole answer) or as CSV of its `rows`, offered as the
/// file `name.csv`.
pub(crate) fn listing<T: serde::Serialize>(
    format: Option<Format>,
    json: impl serde::Serialize,
    rows: &[T],
    name: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if format != Some(Format::Csv) {
        return axum::Json(json).into_response();
    }
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        to_csv(rows),
    )
        .into_response()
}

/// Rows as CSV: the columns are every top-level field any row has, by name.
pub(crate) fn to_csv<T: serde::Serialize>(rows: &[T]) -> String {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or_default())
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for v in &values {
        if let Some(o) = v.as_object() {
            for k in o.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut out = columns
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for v in &values {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &v[c] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => csv_cell(s),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => csv_cell(&other.to_string()),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One text cell: quoted when it must be, and never read as a formula by a spreadsheet
/// (a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'`).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// An optional JSON body (absent, or JSON of `T`); a body that is present but not `T` is our
/// JSON error, not axum's plain-text one.
pub(crate) fn optional_json<T>(
    body: Result<Option<axum::Json<T>>, axum::extract::rejection::JsonRejection>,
) -> Result<Option<T>, crate::ApiError> {
    body.map(|b| b.map(|axum::Json(v)| v))
        .map_err(|e| crate::ApiError::bad_request("malformed_json", e.body_text()))
}

/// Query-string rejections become our JSON errors.
pub(crate) fn query_error(e: axum::extract::rejection::QueryRejection) -> crate::ApiError {
    crate::ApiError::bad_request("bad_query", e.body_text())
}

pub(crate) fn json_error(e: axum::extract::rejection::JsonRejection) -> crate::ApiError {
    crate::ApiError::bad_request("bad_json", e.body_text())
}

pub(crate) fn body_error(
    app: &crate::App,
    e: axum::extract::rejection::BytesRejection,
) -> crate::ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        crate::ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body exceeds the limit of {} bytes",
                app.config().max_body_bytes
            ),
        )
    } else {
        crate::ApiError::bad_request("unreadable_body", e.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::to_csv;

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        let rows = vec![
            serde_json::json!({"id": "a", "note": "one, two", "n": 3}),
            serde_json::json!({"id": "=HYPERLINK(\"x\")", "tags": ["p", "q"], "ok": true}),
        ];
        assert_eq!(
            to_csv(&rows),
            "id,n,note,ok,tags\r\n\
             a,3,\"one, two\",,\r\n\
             \"'=HYPERLINK(\"\"x\"\")\",,,true,\"[\"\"p\"\",\"\"q\"\"]\"\r\n"
        );
    }
}
