//! Server-rendered SVG charts for the DORA pages: bars (deployments per week), ranges
//! (lead time median to p90 per week), a line (change failure rate per week) and dots with
//! whiskers (recovery time per week). Pure functions from numbers to markup: no script, no
//! CDN, no inline `style` (the portal's CSP forbids it; `style.css` colours the classes).
//!
//! Every chart is an accessible image: `role="img"`, a `<title>` and a `<desc>` it is
//! labelled by, labelled axes, and a `<title>` on each mark for pointer users; the page
//! shows the same figures in a table. Text is escaped; values that are missing, not
//! finite, or all zero never reach a division.

use std::fmt::Write as _;

use super::graph::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 230.0;
/// Room for the y tick labels and the rotated y axis label.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
/// Room for the x tick labels and the x axis label.
const BOTTOM: f64 = 46.0;
/// At most this many x tick labels (every k-th point is labelled).
const MAX_X_LABELS: usize = 10;

const MINUTE: f64 = 60_000.0;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;

/// What the values are, which decides the y scale and how numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Counts, linear from 0.
    Count,
    /// Fractions (0.05), written as percentages, linear from 0.
    Percent,
    /// Milliseconds, on a log scale (lead and recovery times span minutes to months).
    Duration,
}

impl Unit {
    pub(crate) fn format(self, value: f64) -> String {
        match self {
            Unit::Count => {
                if value.fract() == 0.0 {
                    format!("{value:.0}")
                } else {
                    format!("{value:.1}")
                }
            }
            Unit::Percent => percent(value),
            Unit::Duration => duration(value),
        }
    }
}

/// A fraction as a percentage: `12.5%`, `3%`.
pub(crate) fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// Milliseconds for people: `45 s`, `12 min`, `3.5 h`, `2.1 d`, `30 d`.
pub(crate) fn duration(ms: f64) -> String {
    /// One decimal, without a trailing `.0`.
    fn short(x: f64) -> String {
        let text = format!("{x:.1}");
        text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
    }
    if !ms.is_finite() {
        return "—".to_owned();
    }
    if ms < MINUTE {
        format!("{:.0} s", ms / 1000.0)
    } else if ms < HOUR {
        format!("{:.0} min", ms / MINUTE)
    } else if ms < DAY {
        format!("{} h", short(ms / HOUR))
    } else {
        format!("{} d", short(ms / DAY))
    }
}

/// What a chart is about.
#[derive(Debug, Clone)]
pub(crate) struct Chart<'a> {
    /// Unique on the page: the prefix of the title's and description's element ids.
    pub(crate) id: &'a str,
    pub(crate) title: &'a str,
    /// A sentence or two on what the chart shows (read by screen readers).
    pub(crate) desc: &'a str,
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) unit: Unit,
}

/// One x position: its tick label, its value, an optional upper value (p90 for ranges and
/// whiskers), and the text of the mark's tooltip.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    pub(crate) label: String,
    pub(crate) value: Option<f64>,
    pub(crate) upper: Option<f64>,
    pub(crate) note: String,
}

impl Point {
    fn value(&self) -> Option<f64> {
        self.value.filter(|v| v.is_finite())
    }

    fn upper(&self) -> Option<f64> {
        self.upper.filter(|v| v.is_finite())
    }
}

/// A y scale: from values to pixels, and its ticks.
struct Scale {
    unit: Unit,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Scale {
    /// A scale covering every finite value of `points` (and their upper values).
    fn of(unit: Unit, points: &[Point]) -> Scale {
        let values = || points.iter().flat_map(|p| [p.value(), p.upper()]).flatten();
        match unit {
            Unit::Count | Unit::Percent => {
                let max = values().fold(0.0_f64, f64::max);
                // A floor keeps an all-zero series from dividing by zero, and small rates
                // from filling the whole height.
                let floor = if unit == Unit::Percent { 0.1 } else { 1.0 };
                let step = nice_step(max.max(floor) / 4.0);
                // Counts go up in whole numbers.
                let step = if unit == Unit::Count {
                    step.max(1.0)
                } else {
                    step
                };
                let hi = (max.max(floor) / step).ceil() * step;
                let ticks = (0..)
                    .map(|i| f64::from(i) * step)
                    .take_while(|t| *t <= hi + step / 2.0)
                    .collect();
                Scale {
                    unit,
                    lo: 0.0,
                    hi,
                    ticks,
                }
            }
            Unit::Duration => {
                const LADDER: [f64; 11] = [
                    1000.0,
                    MINUTE,
                    10.0 * MINUTE,
                    HOUR,
                    6.0 * HOUR,
                    DAY,
                    7.0 * DAY,
                    30.0 * DAY,
                    90.0 * DAY,
                    365.0 * DAY,
                    3650.0 * DAY,
                ];
                let (min, max) = values().fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
                let (min, max) = if min.is_finite() {
                    (min, max)
                } else {
                    (HOUR, DAY)
                };
                let lo_at = LADDER.iter().rposition(|t| *t <= min).unwrap_or(0);
                let hi_at = LADDER
                    .iter()
                    .position(|t| *t >= max)
                    .unwrap_or(LADDER.len() - 1)
                    .max(lo_at + 1);
                Scale {
                    unit,
                    lo: LADDER[lo_at],
                    hi: LADDER[hi_at.min(LADDER.len() - 1)].max(max),
                    ticks: LADDER[lo_at..=hi_at.min(LADDER.len() - 1)].to_vec(),
                }
            }
        }
    }

    /// The y pixel of `value`, clamped into the plot.
    fn y(&self, value: f64) -> f64 {
        let plot = HEIGHT - TOP - BOTTOM;
        let share = match self.unit {
            Unit::Duration => {
                let (lo, hi) = (self.lo.log10(), self.hi.log10());
                (value.max(self.lo).log10() - lo) / (hi - lo)
            }
            Unit::Count | Unit::Percent => (value - self.lo) / (self.hi - self.lo),
        };
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        TOP + plot * (1.0 - share)
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

/// The x centre of point `i` of `n`, and the width of one slot.
fn slot(i: usize, n: usize) -> (f64, f64) {
    let width = (WIDTH - LEFT - RIGHT) / n.max(1) as f64;
    (LEFT + width * (i as f64 + 0.5), width)
}

/// The frame: the `<svg>` element, title, description, grid, axes and their labels.
fn open(chart: &Chart<'_>, kind: &str, scale: &Scale, points: &[Point]) -> String {
    let id = escape(chart.id);
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>"#,
        title = escape(chart.title),
        desc = escape(chart.desc),
    );
    let bottom = HEIGHT - BOTTOM;
    svg.push_str(r#"<g class="chart-grid">"#);
    for tick in &scale.ticks {
        let y = scale.y(*tick);
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}"/>"#,
            x2 = WIDTH - RIGHT,
        );
    }
    svg.push_str("</g>");
    svg.push_str(r#"<g class="chart-axis">"#);
    let _ = write!(
        svg,
        r#"<line class="axis-line" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/><line class="axis-line" x1="{LEFT}" x2="{x2}" y1="{bottom}" y2="{bottom}"/>"#,
        x2 = WIDTH - RIGHT,
    );
    for tick in &scale.ticks {
        let _ = write!(
            svg,
            r#"<text class="tick tick-y" x="{x}" y="{y:.1}" text-anchor="end">{label}</text>"#,
            x = LEFT - 6.0,
            y = scale.y(*tick) + 3.5,
            label = escape(&scale.unit.format(*tick)),
        );
    }
    let every = points.len().div_ceil(MAX_X_LABELS).max(1);
    for (i, point) in points.iter().enumerate().step_by(every) {
        let (x, _) = slot(i, points.len());
        let _ = write!(
            svg,
            r#"<text class="tick tick-x" x="{x:.1}" y="{y}" text-anchor="middle">{label}</text>"#,
            y = bottom + 14.0,
            label = escape(&point.label),
        );
    }
    svg.push_str("</g>");
    let middle = TOP + (HEIGHT - TOP - BOTTOM) / 2.0;
    let _ = write!(
        svg,
        r#"<text class="axis-label axis-label-y" x="14" y="{middle:.1}" text-anchor="middle" transform="rotate(-90 14 {middle:.1})">{y_label}</text><text class="axis-label axis-label-x" x="{cx:.1}" y="{y}" text-anchor="middle">{x_label}</text>"#,
        cx = LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        y = HEIGHT - 6.0,
        y_label = escape(chart.y_label),
        x_label = escape(chart.x_label),
    );
    svg
}

/// The closing tag, with a note over the plot when nothing was drawn.
fn close(mut svg: String, drawn: usize) -> String {
    if drawn == 0 {
        let _ = write!(
            svg,
            r#"<text class="chart-empty" x="{x:.1}" y="{y:.1}" text-anchor="middle">No data in this window</text>"#,
            x = LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            y = TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The mark's tooltip.
fn tooltip(point: &Point) -> String {
    format!("<title>{}</title>", escape(&point.note))
}

/// Bars from 0 to each value: one `<rect class="bar">` per point with a value above 0.
pub(crate) fn bars(chart: &Chart<'_>, points: &[Point]) -> String {
    let scale = Scale::of(chart.unit, points);
    let mut svg = open(chart, "bars", &scale, points);
    let base = scale.y(scale.lo);
    let mut drawn = 0;
    svg.push_str(r#"<g class="chart-data">"#);
    for (i, point) in points.iter().enumerate() {
        let Some(value) = point.value().filter(|v| *v > 0.0) else {
            continue;
        };
        let (x, width) = slot(i, points.len());
        let bar = (width * 0.7).max(1.0);
        let y = scale.y(value);
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}">{tip}</rect>"#,
            x = x - bar / 2.0,
            h = (base - y).max(0.5),
            tip = tooltip(point),
        );
        drawn += 1;
    }
    svg.push_str("</g>");
    close(svg, drawn)
}

/// A line through consecutive values (broken where one is missing), with a dot on each:
/// one `<circle class="point">` per value.
pub(crate) fn line(chart: &Chart<'_>, points: &[Point]) -> String {
    let scale = Scale::of(chart.unit, points);
    let mut svg = open(chart, "line", &scale, points);
    svg.push_str(r#"<g class="chart-data">"#);
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |svg: &mut String, run: &mut Vec<(f64, f64)>| {
        if run.len() > 1 {
            let coords: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = write!(
                svg,
                r#"<polyline class="series" points="{}"/>"#,
                coords.join(" ")
            );
        }
        run.clear();
    };
    let mut drawn = 0;
    for (i, point) in points.iter().enumerate() {
        match point.value() {
            Some(value) => run.push((slot(i, points.len()).0, scale.y(value))),
            None => flush(&mut svg, &mut run),
        }
    }
    flush(&mut svg, &mut run);
    for (i, point) in points.iter().enumerate() {
        if let Some(value) = point.value() {
            let _ = write!(
                svg,
                r#"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="3.5">{tip}</circle>"#,
                x = slot(i, points.len()).0,
                y = scale.y(value),
                tip = tooltip(point),
            );
            drawn += 1;
        }
    }
    svg.push_str("</g>");
    close(svg, drawn)
}

/// A box from each value to its upper value (median to p90) with a tick at the value:
/// one `<rect class="range">` per point with a value.
pub(crate) fn ranges(chart: &Chart<'_>, points: &[Point]) -> String {
    let scale = Scale::of(chart.unit, points);
    let mut svg = open(chart, "ranges", &scale, points);
    svg.push_str(r#"<g class="chart-data">"#);
    let mut drawn = 0;
    for (i, point) in points.iter().enumerate() {
        let Some(value) = point.value() else {
            continue;
        };
        let upper = point.upper().unwrap_or(value).max(value);
        let (x, width) = slot(i, points.len());
        let half = (width * 0.35).max(1.0);
        let (top, bottom) = (scale.y(upper), scale.y(value));
        let _ = write!(
            svg,
            r#"<g class="mark">{tip}<rect class="range" x="{x0:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}"/><line class="median" x1="{x0:.1}" x2="{x1:.1}" y1="{bottom:.1}" y2="{bottom:.1}"/></g>"#,
            tip = tooltip(point),
            x0 = x - half,
            x1 = x + half,
            w = 2.0 * half,
            h = (bottom - top).max(1.0),
        );
        drawn += 1;
    }
    svg.push_str("</g>");
    close(svg, drawn)
}

/// A dot at each value with a whisker up to its upper value: one `<circle class="dot">`
/// per point with a value.
pub(crate) fn dots(chart: &Chart<'_>, points: &[Point]) -> String {
    let scale = Scale::of(chart.unit, points);
    let mut svg = open(chart, "dots", &scale, points);
    svg.push_str(r#"<g class="chart-data">"#);
    let mut drawn = 0;
    for (i, point) in points.iter().enumerate() {
        let Some(value) = point.value() else {
            continue;
        };
        let (x, _) = slot(i, points.len());
        let y = scale.y(value);
        svg.push_str(r#"<g class="mark">"#);
        svg.push_str(&tooltip(point));
        if let Some(upper) = point.upper().filter(|u| *u > value) {
            let _ = write!(
                svg,
                r#"<line class="whisker" x1="{x:.1}" x2="{x:.1}" y1="{y:.1}" y2="{top:.1}"/>"#,
                top = scale.y(upper),
            );
        }
        let _ = write!(
            svg,
            r#"<circle class="dot" cx="{x:.1}" cy="{y:.1}" r="4"/></g>"#
        );
        drawn += 1;
    }
    svg.push_str("</g>");
    close(svg, drawn)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn chart(unit: Unit) -> Chart<'static> {
        Chart {
            id: "c1",
            title: "Deployments per week",
            desc: "Counted deployments to production, per ISO week.",
            x_label: "Week",
            y_label: "Deployments",
            unit,
        }
    }

    fn point(label: &str, value: Option<f64>, upper: Option<f64>) -> Point {
        Point {
            label: label.to_owned(),
            value,
            upper,
            note: format!("{label}: {value:?}"),
        }
    }

    fn series(values: &[Option<f64>]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| point(&format!("w{i}"), *v, v.map(|v| v * 3.0)))
            .collect()
    }

    type Draw = fn(&Chart<'_>, &[Point]) -> String;
    const ALL: [(Draw, Unit); 4] = [
        (bars, Unit::Count),
        (line, Unit::Percent),
        (ranges, Unit::Duration),
        (dots, Unit::Duration),
    ];

    /// Parses `svg` as XML and checks what every chart must have; returns the document's
    /// text for further checks.
    fn check(svg: &str, chart: &Chart<'_>) {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert_eq!(root.attribute("role"), Some("img"));
        let labelled = root.attribute("aria-labelledby").unwrap();
        for id in labelled.split(' ') {
            assert!(
                doc.descendants().any(|n| n.attribute("id") == Some(id)),
                "{id} is not in the chart"
            );
        }
        let child_text = |name: &str| {
            root.children()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .map(str::to_owned)
        };
        assert_eq!(child_text("title").as_deref(), Some(chart.title));
        assert_eq!(child_text("desc").as_deref(), Some(chart.desc));
        let axis_labels: Vec<&str> = doc
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.starts_with("axis-label"))
            })
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(axis_labels, [chart.y_label, chart.x_label], "{svg}");
        for bad in ["NaN", "inf"] {
            assert!(!svg.contains(bad), "{bad} in {svg}");
        }
        // Every number in a coordinate is inside the drawing.
        for node in doc.descendants() {
            for attr in [
                "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height",
            ] {
                if let Some(v) = node.attribute(attr) {
                    let v: f64 = v.parse().unwrap_or_else(|_| panic!("{attr}={v}"));
                    assert!((0.0..=WIDTH).contains(&v), "{attr}={v} in {svg}");
                }
            }
        }
    }

    fn count(svg: &str, class: &str) -> usize {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .count()
    }

    #[test]
    fn every_chart_is_valid_labelled_svg() {
        let points = series(&[Some(3.0), None, Some(12.0), Some(0.5), Some(7.0)]);
        for (draw, unit) in ALL {
            let c = chart(unit);
            let svg = draw(&c, &points);
            check(&svg, &c);
            assert_eq!(count(&svg, "chart-empty"), 0, "{svg}");
        }
    }

    #[test]
    fn marks_are_one_per_point_with_data() {
        let points = series(&[Some(3.0), None, Some(0.0), Some(12.0), Some(7.0)]);
        // Bars leave out the empty and the zero week.
        assert_eq!(count(&bars(&chart(Unit::Count), &points), "bar"), 3);
        assert_eq!(count(&line(&chart(Unit::Percent), &points), "point"), 4);
        assert_eq!(count(&ranges(&chart(Unit::Duration), &points), "range"), 4);
        assert_eq!(count(&dots(&chart(Unit::Duration), &points), "dot"), 4);
        // The gap breaks the line in two.
        let svg = line(&chart(Unit::Percent), &points);
        assert_eq!(count(&svg, "series"), 1, "{svg}");
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let polyline = doc
            .descendants()
            .find(|n| n.has_tag_name("polyline"))
            .unwrap();
        assert_eq!(polyline.attribute("points").unwrap().split(' ').count(), 3);
    }

    #[test]
    fn bar_heights_are_proportional() {
        let points = series(&[Some(10.0), Some(20.0), Some(5.0)]);
        let svg = bars(&chart(Unit::Count), &points);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let heights: Vec<f64> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .map(|n| n.attribute("height").unwrap().parse().unwrap())
            .collect();
        assert_eq!(heights.len(), 3);
        assert!((heights[1] / heights[0] - 2.0).abs() < 0.02, "{heights:?}");
        assert!((heights[0] / heights[2] - 2.0).abs() < 0.02, "{heights:?}");
        // Every bar stands on the x axis.
        let bottoms: Vec<f64> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .map(|n| {
                n.attribute("y").unwrap().parse::<f64>().unwrap()
                    + n.attribute("height").unwrap().parse::<f64>().unwrap()
            })
            .collect();
        for b in bottoms {
            assert!((b - (HEIGHT - BOTTOM)).abs() < 0.11, "{b}");
        }
    }

    #[test]
    fn empty_single_and_flat_series_do_not_divide_by_zero() {
        let cases: Vec<Vec<Point>> = vec![
            Vec::new(),
            series(&[None, None]),
            series(&[Some(0.0)]),
            series(&[Some(4.0)]),
            series(&[Some(0.0), Some(0.0), Some(0.0)]),
            series(&[Some(f64::NAN), Some(f64::INFINITY)]),
            series(&[Some(60_000.0), Some(60_000.0)]),
        ];
        for points in &cases {
            for (draw, unit) in ALL {
                let c = chart(unit);
                let svg = draw(&c, points);
                check(&svg, &c);
            }
        }
        // Nothing to draw says so.
        let svg = bars(&chart(Unit::Count), &[]);
        assert_eq!(count(&svg, "chart-empty"), 1);
        let svg = line(&chart(Unit::Percent), &series(&[None, Some(f64::NAN)]));
        assert_eq!(count(&svg, "chart-empty"), 1);
        // One point is a dot without a line.
        let svg = line(&chart(Unit::Percent), &series(&[Some(0.2)]));
        assert_eq!((count(&svg, "point"), count(&svg, "series")), (1, 0));
    }

    #[test]
    fn text_is_escaped() {
        let c = Chart {
            id: "x\"><script>",
            title: "<b>Lead & time</b>",
            desc: "a \"quoted\" 'desc'",
            x_label: "<x>",
            y_label: "y & z",
            unit: Unit::Duration,
        };
        let mut points = series(&[Some(3_600_000.0)]);
        points[0].label = "</text><script>alert(1)</script>".into();
        points[0].note = "<title>".into();
        for (draw, _) in ALL {
            let svg = draw(&c, &points);
            assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
            let doc = roxmltree::Document::parse(&svg).unwrap();
            assert_eq!(
                doc.root_element()
                    .children()
                    .find(|n| n.has_tag_name("title"))
                    .and_then(|n| n.text()),
                Some("<b>Lead & time</b>")
            );
            assert!(
                doc.descendants()
                    .any(|n| n.text() == Some("</text><script>alert(1)</script>"))
            );
        }
    }

    #[test]
    fn duration_axes_are_logarithmic_with_readable_ticks() {
        let points = series(&[Some(20.0 * MINUTE), Some(3.0 * DAY)]);
        let svg = ranges(&chart(Unit::Duration), &points);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let ticks: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("tick tick-y"))
            .filter_map(|n| n.text())
            .collect();
        // From the ladder step below the smallest value to the one above the largest p90.
        assert_eq!(ticks, ["10 min", "1 h", "6 h", "1 d", "7 d", "30 d"]);
        let scale = Scale::of(Unit::Duration, &points);
        // Equal ratios are equal distances.
        let a = scale.y(HOUR) - scale.y(10.0 * HOUR);
        let b = scale.y(10.0 * HOUR) - scale.y(100.0 * HOUR);
        assert!((a - b).abs() < 1e-6, "{a} {b}");
    }

    #[test]
    fn x_labels_thin_out_on_long_series() {
        let points = series(&[Some(1.0); 53]);
        let svg = bars(&chart(Unit::Count), &points);
        let labels = count(&svg, "tick tick-x");
        assert!((5..=MAX_X_LABELS).contains(&labels), "{labels}");
        assert_eq!(count(&svg, "bar"), 53);
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(0.03), "3%");
        assert_eq!(duration(45_000.0), "45 s");
        assert_eq!(duration(12.0 * MINUTE), "12 min");
        assert_eq!(duration(3.5 * HOUR), "3.5 h");
        assert_eq!(duration(3.0 * DAY), "3 d");
        assert_eq!(duration(36.0 * HOUR), "1.5 d");
        assert_eq!(duration(f64::NAN), "—");
        assert_eq!(Unit::Count.format(4.0), "4");
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(13.0), 20.0);
        assert_eq!(nice_step(0.0), 1.0);
    }
}
