//! The relationship graph on the entity page: a small SVG built server-side.
//!
//! Layout (left to right, all arrows read "source relation target"):
//!
//! ```text
//!                      [ owner ]
//!                          ^ owned by
//! [ dependent ] --> [  entity  ] --> [ dependency ]
//! [ consumer  ] -->               --> [ provided API ]
//! ```
//!
//! - Top row: owners (`ownedBy`).
//! - Left column: entities pointing at this one (`dependencyOf`, `apiConsumedBy`,
//!   `apiProvidedBy`, `hasPart`), drawn as their forward relation into the centre.
//! - Right column: what this entity points at (`dependsOn`, `consumesApi`, `providesApi`,
//!   `partOf`).
//!
//! Each column is capped; the rest collapse into one "+N more" node. Every piece of text goes
//! through [`escape`], so the output is well-formed whatever the catalog contains.

use std::fmt::Write as _;

/// Nodes shown per side column before collapsing into "+N more".
pub(crate) const MAX_COLUMN: usize = 10;
/// Owners shown in the top row.
pub(crate) const MAX_TOP: usize = 3;

const NODE_W: f64 = 210.0;
const NODE_H: f64 = 46.0;
const GAP_Y: f64 = 14.0;
const MARGIN: f64 = 16.0;
const WIDTH: f64 = 920.0;
/// Vertical room between the owner row and the columns (for the edge and its label).
const TOP_GAP: f64 = 56.0;
/// Characters of a name shown in a node before it is cut with an ellipsis.
const NAME_CHARS: usize = 24;

/// One box of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// The kind as written (`Component`).
    pub(crate) kind: String,
    /// What the box says: title, display name or name.
    pub(crate) label: String,
    /// The full entity ref, shown as a tooltip.
    pub(crate) reference: String,
    /// The portal page; `None` when the entity is not in the catalog.
    pub(crate) href: Option<String>,
}

/// A neighbour and the relation drawn on its edge (read in arrow direction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Neighbour {
    pub(crate) node: Node,
    pub(crate) relation: &'static str,
}

/// The entity and its direct neighbours.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    pub(crate) center: Option<Node>,
    /// Drawn on top; arrows go from the centre to them.
    pub(crate) top: Vec<Neighbour>,
    /// Drawn on the left; arrows go from them to the centre.
    pub(crate) left: Vec<Neighbour>,
    /// Drawn on the right; arrows go from the centre to them.
    pub(crate) right: Vec<Neighbour>,
    /// Where "+N more" leads: the relations list, on this page (empty) or another.
    pub(crate) more_href: String,
}

/// Escapes text for SVG/XML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Cuts `text` to `max` characters, ending with an ellipsis when it was longer.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
}

impl Rect {
    fn left(self) -> (f64, f64) {
        (self.x, self.y + NODE_H / 2.0)
    }
    fn right(self) -> (f64, f64) {
        (self.x + NODE_W, self.y + NODE_H / 2.0)
    }
    fn top(self) -> (f64, f64) {
        (self.x + NODE_W / 2.0, self.y)
    }
    fn bottom(self) -> (f64, f64) {
        (self.x + NODE_W / 2.0, self.y + NODE_H)
    }
}

/// What a column holds once capped: the visible neighbours and how many were left out.
fn cap(items: &[Neighbour], max: usize) -> (&[Neighbour], usize) {
    if items.len() <= max {
        (items, 0)
    } else {
        (&items[..max], items.len() - max)
    }
}

fn column_height(slots: usize) -> f64 {
    if slots == 0 {
        0.0
    } else {
        slots as f64 * NODE_H + (slots - 1) as f64 * GAP_Y
    }
}

/// Renders the graph as an inline `<svg class="graph">`: owners centred above the entity,
/// what points at it on the left, what it points at on the right.
pub(crate) fn render(graph: &Graph) -> String {
    let (top, top_more) = cap(&graph.top, MAX_TOP);
    let (left, left_more) = cap(&graph.left, MAX_COLUMN);
    let (right, right_more) = cap(&graph.right, MAX_COLUMN);
    let top_slots = top.len() + usize::from(top_more > 0);
    let left_slots = left.len() + usize::from(left_more > 0);
    let right_slots = right.len() + usize::from(right_more > 0);

    let columns_y = if top_slots > 0 {
        MARGIN + NODE_H + TOP_GAP
    } else {
        MARGIN
    };
    let band = column_height(left_slots.max(right_slots).max(1));
    let height = columns_y + band + MARGIN;
    let center = Rect {
        x: (WIDTH - NODE_W) / 2.0,
        y: columns_y + (band - NODE_H) / 2.0,
    };
    let column = |slots: usize| Column {
        top: columns_y + (band - column_height(slots)) / 2.0,
    };

    let center_node = graph.center.clone().unwrap_or_else(|| Node {
        kind: String::new(),
        label: String::new(),
        reference: String::new(),
        href: None,
    });
    let aria = format!(
        "Relationship graph of {}: {} incoming, {} outgoing, {} owner{}",
        center_node.reference,
        graph.left.len(),
        graph.right.len(),
        graph.top.len(),
        if graph.top.len() == 1 { "" } else { "s" },
    );

    let mut canvas = Canvas {
        more_href: graph.more_href.clone(),
        ..Canvas::default()
    };
    canvas.owners(top, top_more, top_slots, center);
    canvas.incoming(left, left_more, column(left_slots), center);
    canvas.outgoing(right, right_more, column(right_slots), center);
    node(
        &mut canvas.nodes,
        center,
        &center_node,
        "graph-node graph-node-center",
    );
    canvas.finish(height, &aria)
}

/// A column of nodes: where its first slot starts.
#[derive(Clone, Copy)]
struct Column {
    top: f64,
}

impl Column {
    fn slot_y(self, i: usize) -> f64 {
        self.top + i as f64 * (NODE_H + GAP_Y)
    }
}

/// The drawing's three layers, drawn in this order: edges, their labels, then nodes.
#[derive(Default)]
struct Canvas {
    edges: String,
    labels: String,
    nodes: String,
    /// The "+N more" boxes' link (`#relations` when empty).
    more_href: String,
}

impl Canvas {
    /// Owners, centred above the entity.
    fn owners(&mut self, top: &[Neighbour], top_more: usize, top_slots: usize, center: Rect) {
        let top_width = top_slots as f64 * NODE_W + top_slots.saturating_sub(1) as f64 * 24.0;
        let top_x0 = (WIDTH - top_width) / 2.0;
        for (i, n) in top.iter().enumerate() {
            let rect = Rect {
                x: top_x0 + i as f64 * (NODE_W + 24.0),
                y: MARGIN,
            };
            let (x1, y1) = center.top();
            let (x2, y2) = rect.bottom();
            let dy = (y1 - y2) / 2.0;
            let _ = write!(
                self.edges,
                r#"<path class="graph-edge" d="M{x1:.1} {y1:.1} C{x1:.1} {c1:.1}, {x2:.1} {c2:.1}, {x2:.1} {y2e:.1}" marker-end="url(#pave-graph-arrow)"/>"#,
                c1 = y1 - dy,
                c2 = y2 + dy,
                y2e = y2 + 2.0,
            );
            let (lx, ly) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0 + 4.0);
            edge_label(&mut self.labels, lx + 6.0, ly, "start", n.relation);
            node(
                &mut self.nodes,
                rect,
                &n.node,
                "graph-node graph-node-owner",
            );
        }
        if top_more > 0 {
            let rect = Rect {
                x: top_x0 + top.len() as f64 * (NODE_W + 24.0),
                y: MARGIN,
            };
            more(&mut self.nodes, &self.more_href, rect, top_more);
        }
    }

    /// Incoming, on the left: arrows into the centre.
    fn incoming(&mut self, left: &[Neighbour], left_more: usize, column: Column, center: Rect) {
        let left_x = MARGIN;
        for (i, n) in left.iter().enumerate() {
            let rect = Rect {
                x: left_x,
                y: column.slot_y(i),
            };
            let a = rect.right();
            let b = center.left();
            curve(&mut self.edges, a, (b.0 - 2.0, b.1));
            // Next to the neighbour, on the side of the line the curve leaves free.
            let ly = if a.1 > b.1 + 1.0 {
                a.1 + 14.0
            } else {
                a.1 - 6.0
            };
            edge_label(&mut self.labels, a.0 + 8.0, ly, "start", n.relation);
            node(&mut self.nodes, rect, &n.node, "graph-node graph-node-in");
        }
        if left_more > 0 {
            more(
                &mut self.nodes,
                &self.more_href,
                Rect {
                    x: left_x,
                    y: column.slot_y(left.len()),
                },
                left_more,
            );
        }
    }

    /// Outgoing, on the right: arrows out of the centre.
    fn outgoing(&mut self, right: &[Neighbour], right_more: usize, column: Column, center: Rect) {
        let right_x = WIDTH - MARGIN - NODE_W;
        for (i, n) in right.iter().enumerate() {
            let rect = Rect {
                x: right_x,
                y: column.slot_y(i),
            };
            let a = center.right();
            let b = rect.left();
            curve(&mut self.edges, a, (b.0 - 2.0, b.1));
            let ly = if b.1 > a.1 + 1.0 {
                b.1 + 14.0
            } else {
                b.1 - 6.0
            };
            edge_label(&mut self.labels, b.0 - 10.0, ly, "end", n.relation);
            node(&mut self.nodes, rect, &n.node, "graph-node graph-node-out");
        }
        if right_more > 0 {
            more(
                &mut self.nodes,
                &self.more_href,
                Rect {
                    x: right_x,
                    y: column.slot_y(right.len()),
                },
                right_more,
            );
        }
    }

    /// The `<svg>` element around the layers. A `group`, not an `img`: an image's content is
    /// hidden from screen readers, and the nodes are links they must reach (axe-core's
    /// `nested-interactive`).
    fn finish(self, height: f64, aria: &str) -> String {
        self.finish_sized(WIDTH, height, aria)
    }

    fn finish_sized(self, width: f64, height: f64, aria: &str) -> String {
        let (edges, labels, nodes) = (self.edges, self.labels, self.nodes);
        let mut svg = String::with_capacity(edges.len() + labels.len() + nodes.len() + 1024);
        let _ = write!(
            svg,
            r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="group" aria-label="{aria}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">"#,
            aria = escape(aria),
        );
        let _ = write!(svg, "<title>{}</title>", escape(aria));
        svg.push_str(concat!(
            r#"<defs><marker id="pave-graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">"#,
            r##"<path d="M0 0 L10 5 L0 10 z" fill="#94a3b8"/></marker></defs>"##,
        ));
        let _ = write!(svg, r#"<g class="graph-edges">{edges}</g>"#);
        let _ = write!(svg, r#"<g class="graph-edge-labels">{labels}</g>"#);
        let _ = write!(svg, r#"<g class="graph-nodes">{nodes}</g>"#);
        svg.push_str("</svg>");
        svg
    }
}

fn curve(out: &mut String, a: (f64, f64), b: (f64, f64)) {
    let dx = (b.0 - a.0) / 2.0;
    let _ = write!(
        out,
        r#"<path class="graph-edge" d="M{:.1} {:.1} C{:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}" marker-end="url(#pave-graph-arrow)"/>"#,
        a.0,
        a.1,
        a.0 + dx,
        a.1,
        b.0 - dx,
        b.1,
        b.0,
        b.1,
    );
}

fn edge_label(out: &mut String, x: f64, y: f64, anchor: &str, text: &str) {
    let _ = write!(
        out,
        r##"<text class="graph-edge-label" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="10.5" fill="#64748b" stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke">{}</text>"##,
        escape(text),
    );
}

/// A CSS-friendly token for the kind (`kind-component`).
fn kind_class(kind: &str) -> String {
    let token: String = kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if token.is_empty() {
        "kind-unknown".to_owned()
    } else {
        format!("kind-{token}")
    }
}

fn node(out: &mut String, rect: Rect, node: &Node, class: &str) {
    let missing = node.href.is_none();
    let class = format!(
        "{class} {}{}",
        kind_class(&node.kind),
        if missing { " graph-node-missing" } else { "" }
    );
    let center = class.contains("graph-node-center");
    let (fill, stroke, text_fill, kind_fill) = if center {
        ("#4f46e5", "#4338ca", "#ffffff", "#e0e7ff")
    } else {
        ("#ffffff", "#cbd5e1", "#0f172a", "#64748b")
    };
    let open = match &node.href {
        Some(href) => format!(r#"<a href="{}" class="{}">"#, escape(href), escape(&class)),
        None => format!(r#"<g class="{}">"#, escape(&class)),
    };
    out.push_str(&open);
    let _ = write!(out, "<title>{}</title>", escape(&node.reference));
    let _ = write!(
        out,
        r#"<rect x="{:.1}" y="{:.1}" width="{NODE_W:.0}" height="{NODE_H:.0}" rx="9" fill="{fill}" stroke="{stroke}" stroke-width="1.2"{dash}/>"#,
        rect.x,
        rect.y,
        dash = if missing {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        },
    );
    let kind_line = if missing {
        format!("{} · not in catalog", node.kind.to_uppercase())
    } else {
        node.kind.to_uppercase()
    };
    let _ = write!(
        out,
        r#"<text class="graph-node-kind" x="{:.1}" y="{:.1}" font-size="10" font-weight="600" letter-spacing="0.06em" fill="{kind_fill}">{}</text>"#,
        rect.x + 14.0,
        rect.y + 18.0,
        escape(&kind_line),
    );
    let _ = write!(
        out,
        r#"<text class="graph-node-label" x="{:.1}" y="{:.1}" font-size="13" font-weight="600" fill="{text_fill}">{}</text>"#,
        rect.x + 14.0,
        rect.y + 35.0,
        escape(&truncate(&node.label, NAME_CHARS)),
    );
    out.push_str(if node.href.is_some() { "</a>" } else { "</g>" });
}

fn more(out: &mut String, href: &str, rect: Rect, hidden: usize) {
    let href = if href.is_empty() { "#relations" } else { href };
    let _ = write!(
        out,
        r##"<a href="{}" class="graph-more"><title>{hidden} more; see the relations list</title><rect x="{:.1}" y="{:.1}" width="{NODE_W:.0}" height="{NODE_H:.0}" rx="9" fill="#f8fafc" stroke="#cbd5e1" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="600" fill="#475569">+{hidden} more</text></a>"##,
        escape(href),
        rect.x,
        rect.y,
        rect.x + NODE_W / 2.0,
        rect.y + 28.0,
    );
}

/// Room between the columns of a layered graph (for the edges).
const LAYER_GAP: f64 = 90.0;

/// A graph drawn in columns (the dependency-graph page): each column a list of nodes, edges
/// between any two, the first node of the first column the centre.
pub(crate) struct Layered {
    pub(crate) columns: Vec<Vec<Node>>,
    /// `(column, row)` of the source and of the target: the arrow's direction.
    pub(crate) edges: Vec<((usize, usize), (usize, usize))>,
    pub(crate) aria: String,
}

/// The SVG of a [`Layered`] graph.
pub(crate) fn render_layered(graph: &Layered) -> String {
    let rect = |(column, row): (usize, usize)| Rect {
        x: MARGIN + column as f64 * (NODE_W + LAYER_GAP),
        y: MARGIN + row as f64 * (NODE_H + GAP_Y),
    };
    let columns = graph.columns.len().max(1);
    let rows = graph.columns.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let width = 2.0 * MARGIN + columns as f64 * NODE_W + (columns - 1) as f64 * LAYER_GAP;
    let height = 2.0 * MARGIN + rows as f64 * (NODE_H + GAP_Y) - GAP_Y;
    let mut canvas = Canvas::default();
    for &(from, to) in &graph.edges {
        let (a, b) = (rect(from), rect(to));
        match from.0.cmp(&to.0) {
            std::cmp::Ordering::Less => {
                let end = b.left();
                curve(&mut canvas.edges, a.right(), (end.0 - 2.0, end.1));
            }
            std::cmp::Ordering::Greater => {
                let end = b.right();
                curve(&mut canvas.edges, a.left(), (end.0 + 2.0, end.1));
            }
            std::cmp::Ordering::Equal => {
                // Within a column: a bow out to the right.
                let (s, e) = (a.right(), b.right());
                let bow = s.0 + 36.0 + (s.1 - e.1).abs().min(240.0) / 6.0;
                let _ = write!(
                    canvas.edges,
                    r#"<path class="graph-edge" d="M{:.1} {:.1} C{bow:.1} {:.1}, {bow:.1} {:.1}, {:.1} {:.1}" marker-end="url(#pave-graph-arrow)"/>"#,
                    s.0,
                    s.1,
                    s.1,
                    e.1,
                    e.0 + 2.0,
                    e.1,
                );
            }
        }
    }
    for (c, column) in graph.columns.iter().enumerate() {
        for (r, n) in column.iter().enumerate() {
            let class = if (c, r) == (0, 0) {
                "graph-node graph-node-center"
            } else {
                "graph-node"
            };
            node(&mut canvas.nodes, rect((c, r)), n, class);
        }
    }
    canvas.finish_sized(width, height, &graph.aria)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: &str, name: &str) -> Node {
        Node {
            kind: kind.into(),
            label: name.into(),
            reference: format!("{}:default/{name}", kind.to_lowercase()),
            href: Some(format!("/catalog/default/{}/{name}", kind.to_lowercase())),
        }
    }

    fn neighbour(kind: &str, name: &str, relation: &'static str) -> Neighbour {
        Neighbour {
            node: node(kind, name),
            relation,
        }
    }

    /// A minimal well-formedness check: tags balance and no raw `<`/`&` leaks into text.
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            assert!(!text.contains('>'), "raw > in text: {text:?}");
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "bare & in {text:?}"
                );
            }
            let end = rest[start..].find('>').expect("unclosed tag") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag[1..].contains('<'), "< inside tag {tag:?}");
            // Attribute values are quoted with " and must not contain one.
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in {tag:?}"
            );
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or_default();
                stack.push(name.to_owned());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert!(rest.trim().is_empty());
    }

    #[test]
    fn escapes_markup_in_every_text() {
        let evil = r#"<script>alert("x&y's")</script>"#;
        let graph = Graph {
            center: Some(Node {
                kind: "Component".into(),
                label: evil.into(),
                reference: format!("component:default/{evil}"),
                href: Some(format!("/catalog/default/component/{evil}")),
            }),
            top: vec![neighbour("Group", evil, "owned by")],
            left: vec![Neighbour {
                node: node("Component", "a"),
                relation: "<b>",
            }],
            right: vec![Neighbour {
                node: Node {
                    href: None,
                    ..node("Resource", evil)
                },
                relation: "depends on",
            }],
            more_href: String::new(),
        };
        let svg = render(&graph);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("&quot;x&amp;y&#39;s&quot;"));
        assert!(svg.contains("&lt;b&gt;"));
        assert_well_formed(&svg);
    }

    #[test]
    fn lays_out_owner_on_top_incoming_left_outgoing_right() {
        let graph = Graph {
            center: Some(node("Component", "checkout-api")),
            top: vec![neighbour("Group", "basket-checkout", "owned by")],
            left: vec![neighbour("Component", "storefront-web", "depends on")],
            right: vec![
                neighbour("Resource", "orders-db", "depends on"),
                neighbour("API", "payments", "consumes API"),
            ],
            more_href: String::new(),
        };
        let svg = render(&graph);
        assert_well_formed(&svg);
        assert!(svg.starts_with(r#"<svg class="graph""#));
        assert!(
            svg.contains(r#"role="group""#),
            "nodes are links: not inside an img role"
        );
        assert!(
            svg.contains(r#"aria-label="Relationship graph of component:default/checkout-api"#)
        );
        assert_eq!(svg.matches(r#"class="graph-node "#).count(), 5);
        assert_eq!(svg.matches("graph-node-center").count(), 1);
        assert_eq!(svg.matches("graph-node-owner").count(), 1);
        assert_eq!(svg.matches("graph-node-in ").count(), 1);
        assert_eq!(svg.matches("graph-node-out ").count(), 2);
        assert_eq!(svg.matches(r#"class="graph-edge""#).count(), 4);
        assert!(svg.contains(">consumes API</text>"));
        assert!(svg.contains(r#"href="/catalog/default/resource/orders-db""#));

        // The owner sits above the centre, dependents to its left, dependencies to its right.
        let x_of = |needle: &str| -> f64 {
            let at = svg.find(needle).unwrap();
            let rect = &svg[at..];
            let x = rect.find("<rect x=\"").unwrap() + 9;
            rect[x..].split('"').next().unwrap().parse().unwrap()
        };
        let y_of = |needle: &str| -> f64 {
            let at = svg.find(needle).unwrap();
            let rect = &svg[at..];
            let y = rect.find(" y=\"").unwrap() + 4;
            rect[y..].split('"').next().unwrap().parse().unwrap()
        };
        let center = x_of("graph-node-center");
        assert!(x_of("graph-node-in") < center);
        assert!(x_of("graph-node-out") > center);
        assert!(y_of("graph-node-owner") < y_of("graph-node-center"));
    }

    /// The whole drawing, pinned: layout changes show up as a reviewed snapshot diff.
    #[test]
    fn the_drawing_is_stable() {
        let graph = Graph {
            center: Some(node("Component", "checkout-api")),
            top: vec![neighbour("Group", "basket-checkout", "owned by")],
            left: vec![neighbour("Component", "storefront-web", "depends on")],
            right: vec![
                neighbour("Resource", "orders-db", "depends on"),
                neighbour("API", "payments", "consumes API"),
            ],
            more_href: String::new(),
        };
        // One element per line, so a change reads as a diff of elements.
        insta::assert_snapshot!(render(&graph).replace("><", ">\n<"));
    }

    #[test]
    fn caps_columns_with_a_more_node() {
        let many: Vec<Neighbour> = (0..25)
            .map(|i| neighbour("Component", &format!("dependent-{i:02}"), "depends on"))
            .collect();
        let graph = Graph {
            center: Some(node("API", "orders")),
            top: (0..5)
                .map(|i| neighbour("Group", &format!("team-{i}"), "owned by"))
                .collect(),
            left: many.clone(),
            right: many[..MAX_COLUMN].to_vec(),
            more_href: String::new(),
        };
        let svg = render(&graph);
        assert_well_formed(&svg);
        assert_eq!(svg.matches("graph-node-in ").count(), MAX_COLUMN);
        assert_eq!(
            svg.matches("graph-node-out ").count(),
            MAX_COLUMN,
            "exactly the cap: no more node"
        );
        assert_eq!(svg.matches("graph-node-owner").count(), MAX_TOP);
        assert!(svg.contains("+15 more"));
        assert!(svg.contains("+2 more"));
        assert_eq!(svg.matches(r#"class="graph-more""#).count(), 2);
        assert!(!svg.contains("dependent-10"), "capped nodes are not drawn");
    }

    #[test]
    fn missing_entities_are_not_links_and_long_names_are_cut() {
        let long = "a-really-long-component-name-that-goes-on-and-on";
        let graph = Graph {
            center: Some(node("Component", long)),
            top: Vec::new(),
            left: Vec::new(),
            right: vec![Neighbour {
                node: Node {
                    href: None,
                    ..node("Resource", "ghost")
                },
                relation: "depends on",
            }],
            more_href: String::new(),
        };
        let svg = render(&graph);
        assert_well_formed(&svg);
        assert!(svg.contains("graph-node-missing"));
        assert!(svg.contains("RESOURCE · not in catalog"));
        assert!(!svg.contains(r#"href="/catalog/default/resource/ghost""#));
        assert!(svg.contains(&format!(">{}</text>", truncate(long, NAME_CHARS))));
        assert!(truncate(long, NAME_CHARS).ends_with('…'));
        assert_eq!(truncate(long, NAME_CHARS).chars().count(), NAME_CHARS);
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn lone_entity_still_renders() {
        let svg = render(&Graph {
            center: Some(node("Domain", "platform")),
            ..Graph::default()
        });
        assert_well_formed(&svg);
        assert_eq!(svg.matches(r#"class="graph-node "#).count(), 1);
        assert!(!svg.contains("graph-edge\""));
    }
}
