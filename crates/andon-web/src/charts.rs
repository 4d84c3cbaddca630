//! Charts as SVG drawn by the server: bars for counts per period, a line for a trend,
//! horizontal bars for rates. Each chart is an image with a title and description for
//! screen readers, and its numbers follow in a table inside `<details>`, so nothing is
//! only in the picture.

use maud::{Markup, PreEscaped, html};

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;

/// One point of a series: its label (a period) and value (`None`: nothing to measure).
#[derive(Clone, Debug, Default)]
pub struct Point {
    /// The period or category.
    pub label: String,
    /// The value, if there was one.
    pub value: Option<f64>,
    /// Only part of the period is measured (under way, or cut by the range): drawn
    /// lighter, and said so, so that it does not read as a spike or a dip.
    pub partial: bool,
}

/// A band boundary drawn across a chart: its value and what it separates ("elite | high").
#[derive(Clone, Copy, Debug)]
pub struct Threshold {
    /// Where it is, in the chart's unit.
    pub value: f64,
    /// Its label.
    pub label: &'static str,
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A "nice" upper bound for an axis.
fn ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn frame(
    id: &str,
    title: &str,
    description: &str,
    inner: String,
    points: &[Point],
    unit: &str,
) -> Markup {
    let svg = format!(
        r#"<svg role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>{inner}</svg>"#,
        escape(title),
        escape(description),
    );
    html! {
        figure {
            figcaption { (title) }
            (PreEscaped(svg))
            details {
                summary { "Data" }
                table {
                    thead { tr { th scope="col" { "Period" } th.num scope="col" { (unit) } } }
                    tbody {
                        @for p in points {
                            tr {
                                td { (p.label) @if p.partial { " (part of the period)" } }
                                td.num { (p.value.map(fmt).unwrap_or_else(|| "–".into())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn axes(max: f64, unit: &str) -> String {
    let mut out = format!(
        r#"<text x="{:.1}" y="{:.1}" text-anchor="start">{}</text>"#,
        LEFT + 4.0,
        TOP + 9.0,
        escape(unit)
    );
    let plot_h = HEIGHT - TOP - BOTTOM;
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        out.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 4.0,
            y + 4.0,
            fmt(v)
        ));
    }
    out
}

fn labels(points: &[Point], x_of: impl Fn(usize) -> f64) -> String {
    let every = points.len().div_ceil(8).max(1);
    let mut out = String::new();
    for (i, p) in points.iter().enumerate().filter(|(i, _)| i % every == 0) {
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x_of(i),
            HEIGHT - 8.0,
            escape(&p.label)
        ));
    }
    out
}

/// Vertical bars, one per point (deployments per week, say).
pub fn bars(id: &str, title: &str, unit: &str, points: &[Point]) -> Markup {
    let max = ceiling(points.iter().filter_map(|p| p.value).fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / points.len().max(1) as f64;
    let mut inner = axes(max, unit);
    for (i, p) in points.iter().enumerate() {
        let v = p.value.unwrap_or(0.0);
        let h = plot_h * v / max;
        inner.push_str(&format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#0a58ca"{}><title>{}: {}{}</title></rect>"##,
            LEFT + slot * i as f64 + slot * 0.15,
            TOP + plot_h - h,
            slot * 0.7,
            if p.partial { r#" fill-opacity="0.35""# } else { "" },
            escape(&p.label),
            fmt(v),
            if p.partial { " (part of the period)" } else { "" }
        ));
    }
    inner.push_str(&labels(points, |i| LEFT + slot * (i as f64 + 0.5)));
    let total: f64 = points.iter().filter_map(|p| p.value).sum();
    let description = format!(
        "{} periods from {} to {}, {} in all",
        points.len(),
        points.first().map(|p| p.label.as_str()).unwrap_or("-"),
        points.last().map(|p| p.label.as_str()).unwrap_or("-"),
        fmt(total)
    );
    frame(id, title, &description, inner, points, unit)
}

/// A line through the points that have a value (lead time per week, say), with the band
/// boundaries that fall within its scale drawn dashed.
pub fn line(id: &str, title: &str, unit: &str, points: &[Point], bands: &[Threshold]) -> Markup {
    let max = ceiling(points.iter().filter_map(|p| p.value).fold(0.0, f64::max));
    let plot_w = WIDTH - LEFT - 10.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = plot_w / (points.len().max(2) - 1) as f64;
    let x_of = |i: usize| LEFT + 5.0 + step * i as f64;
    let mut inner = axes(max, unit);
    for t in bands.iter().filter(|t| t.value > 0.0 && t.value <= max) {
        let y = TOP + plot_h - plot_h * t.value / max;
        // Above its line, or below it when the line runs along the top of the plot; a white
        // halo keeps it readable across the lines it crosses.
        let label_y = if y - TOP < 14.0 { y + 12.0 } else { y - 3.0 };
        inner.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1}" y2="{y:.1}" stroke="#8a5a00" stroke-width="1" stroke-dasharray="5 4"/><text x="{:.1}" y="{label_y:.1}" text-anchor="end" fill="#8a5a00" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
            WIDTH - 4.0,
            escape(t.label)
        ));
    }
    let coords: Vec<(f64, f64, &Point)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.value
                .map(|v| (x_of(i), TOP + plot_h - plot_h * v / max, p))
        })
        .collect();
    if coords.len() > 1 {
        let path: Vec<String> = coords
            .iter()
            .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
            .collect();
        inner.push_str(&format!(
            r##"<polyline points="{}" fill="none" stroke="#0a58ca" stroke-width="2"/>"##,
            path.join(" ")
        ));
    }
    for (x, y, p) in &coords {
        inner.push_str(&format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"><title>{}: {}{}</title></circle>"##,
            if p.partial {
                "#ffffff\" stroke=\"#0a58ca"
            } else {
                "#0a58ca"
            },
            escape(&p.label),
            p.value.map(fmt).unwrap_or_default(),
            if p.partial {
                " (part of the period)"
            } else {
                ""
            }
        ));
    }
    inner.push_str(&labels(points, x_of));
    let description = match (coords.first(), coords.last()) {
        (Some(a), Some(b)) => format!(
            "from {} {unit} in {} to {} {unit} in {}",
            a.2.value.map(fmt).unwrap_or_default(),
            a.2.label,
            b.2.value.map(fmt).unwrap_or_default(),
            b.2.label
        ),
        _ => "no values in this period".to_owned(),
    };
    frame(id, title, &description, inner, points, unit)
}

/// Horizontal bars of percentages (each control's pass rate, say), 0 to 100.
pub fn rates(id: &str, title: &str, points: &[Point]) -> Markup {
    let row = 22.0;
    let height = TOP + row * points.len().max(1) as f64 + 8.0;
    let label_w = 190.0;
    let plot_w = WIDTH - label_w - 50.0;
    let mut inner = String::new();
    for (i, p) in points.iter().enumerate() {
        let y = TOP + row * i as f64;
        let v = p.value.unwrap_or(0.0).clamp(0.0, 100.0);
        let colour = if v >= 90.0 {
            "#1a7f37"
        } else if v >= 60.0 {
            "#8a5a00"
        } else {
            "#b42318"
        };
        inner.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{label_w}" y="{y:.1}" width="{plot_w:.1}" height="14" fill="#eef1f4"/><rect x="{label_w}" y="{y:.1}" width="{:.1}" height="14" fill="{colour}"><title>{}: {}%</title></rect><text x="{:.1}" y="{:.1}">{}</text>"##,
            label_w - 6.0,
            y + 11.0,
            escape(&p.label),
            plot_w * v / 100.0,
            escape(&p.label),
            fmt(v),
            label_w + plot_w + 6.0,
            y + 11.0,
            p.value.map(|v| format!("{}%", fmt(v))).unwrap_or_else(|| "–".into())
        ));
    }
    let svg = format!(
        r#"<svg role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {WIDTH} {height:.0}" width="100%" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{} rates, 0 to 100 percent</desc>{inner}</svg>"#,
        escape(title),
        points.len()
    );
    html! {
        figure {
            figcaption { (title) }
            (PreEscaped(svg))
            details {
                summary { "Data" }
                table {
                    thead { tr { th scope="col" { "Item" } th.num scope="col" { "%" } } }
                    tbody {
                        @for p in points {
                            tr { td { (p.label) } td.num { (p.value.map(fmt).unwrap_or_else(|| "–".into())) } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[Option<f64>]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                label: format!("W{i}"),
                value: *v,
                partial: false,
            })
            .collect()
    }

    #[test]
    fn a_bar_is_drawn_per_period_scaled_to_a_round_axis() {
        let svg = bars(
            "d",
            "Deployments",
            "count",
            &pts(&[Some(4.0), Some(8.0), None]),
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        // The axis rounds 8 up to 10: 8 fills four fifths of the plot's 162 units.
        assert!(svg.contains(r#"height="129.6""#), "{svg}");
        assert!(svg.contains(r#"text-anchor="end">10</text>"#), "{svg}");
        assert!(svg.contains("3 periods from W0 to W2, 12 in all"));
    }

    #[test]
    fn a_line_skips_periods_without_a_value() {
        let svg = line(
            "l",
            "Lead time",
            "hours",
            &pts(&[Some(2.0), None, Some(5.0)]),
            &[],
        )
        .into_string();
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains("from 2 hours in W0 to 5 hours in W2"));
    }

    #[test]
    fn a_line_draws_its_unit_the_bands_in_its_scale_and_marks_a_partial_period() {
        let mut points = pts(&[Some(30.0), Some(90.0)]);
        points[1].partial = true;
        let bands = [
            Threshold {
                value: 60.0,
                label: "elite | high",
            },
            Threshold {
                value: 1440.0,
                label: "high | medium",
            },
        ];
        let svg = line("t", "Time to restore", "minutes", &points, &bands).into_string();
        assert!(svg.contains(">minutes</text>"), "{svg}");
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            1,
            "only the band in scale: {svg}"
        );
        assert!(svg.contains(">elite | high</text>"), "{svg}");
        assert!(svg.contains("W1: 90 (part of the period)"), "{svg}");
    }

    #[test]
    fn labels_are_escaped_inside_the_svg() {
        let svg = rates(
            "r",
            "Pass <rates>",
            &[Point {
                label: "<b>x</b>".into(),
                value: Some(50.0),
                partial: false,
            }],
        )
        .into_string();
        assert!(!svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&lt;b&gt;x&lt;/b&gt;"));
    }

    #[test]
    fn axes_round_up() {
        assert_eq!(ceiling(7.0), 10.0);
        assert_eq!(ceiling(0.0), 1.0);
        assert_eq!(ceiling(130.0), 200.0);
        assert_eq!(ceiling(0.3), 0.5);
    }
}
