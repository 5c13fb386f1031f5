//! The chain drawn as SVG, laid out and written in-process.
//!
//! `def graph -o chain.svg` must work on a fresh machine, so we cannot shell out to Graphviz,
//! and no crate lays out small directed graphs with edge labels without pulling in a browser
//! engine. The layout is deliberately simple, and written here:
//!
//! - layers: a vertex's layer is its breadth-first depth from `<start>`; `<end>` is the last
//!   layer, datasources no case reaches sit just above it;
//! - columns: each group gets its own vertical band, so a group is one dashed cluster that
//!   never overlaps another; within a band, a layer's vertices are spread side by side;
//! - edges: to the next layer, a curve from the bottom of one box to the top of the next
//!   (parallel edges fanned out); self-loops as loops on the right; everything else (edges back
//!   up, edges that skip layers) as arcs around the left, wider the more layers they span;
//! - labels sit at the middle of their curve; a label that would cover a box or another label
//!   is nudged up or down until it does not.
//!
//! Text widths are estimated from the character count (no font metrics without a font
//! engine); the estimate is generous so that labels do not touch.

use super::graph::{Chance, Graph, SinkBox, VertexKind};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

const NODE_H: f64 = 34.0;
const LAYER_GAP: f64 = 100.0;
const NODE_GAP: f64 = 70.0;
const BAND_GAP: f64 = 60.0;
const NODE_FONT: f64 = 13.0;
const LABEL_FONT: f64 = 11.0;
const LABEL_H: f64 = 14.0;

/// Estimated width of `text` at `size` px in a sans-serif font.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

/// An axis-aligned rectangle: what labels must not cover, and what the view box must hold.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// A vertex's box as placed: its centre, its width (the height is [`NODE_H`]) and its layer.
#[derive(Clone, Copy, Debug)]
struct NodeBox {
    cx: f64,
    cy: f64,
    w: f64,
    layer: usize,
}

impl NodeBox {
    fn left(&self) -> f64 {
        self.cx - self.w / 2.0
    }
    fn right(&self) -> f64 {
        self.cx + self.w / 2.0
    }
    fn top(&self) -> f64 {
        self.cy - NODE_H / 2.0
    }
    fn bottom(&self) -> f64 {
        self.cy + NODE_H / 2.0
    }
    /// The area the box covers.
    fn rect(&self) -> Rect {
        Rect {
            x: self.left(),
            y: self.top(),
            w: self.w,
            h: NODE_H,
        }
    }
}

/// Which point of a label's text its `x` is: SVG's `text-anchor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextAnchor {
    Start,
    Middle,
    End,
}

impl TextAnchor {
    /// The `text-anchor` attribute value.
    fn as_str(self) -> &'static str {
        match self {
            TextAnchor::Start => "start",
            TextAnchor::Middle => "middle",
            TextAnchor::End => "end",
        }
    }
}

/// A placed edge label.
struct Label {
    x: f64,
    y: f64,
    anchor: TextAnchor,
    text: String,
}

impl Label {
    /// The area the label's text covers, as estimated by [`text_width`].
    fn rect(&self) -> Rect {
        let w = text_width(&self.text, LABEL_FONT);
        let x = match self.anchor {
            TextAnchor::Start => self.x,
            TextAnchor::Middle => self.x - w / 2.0,
            TextAnchor::End => self.x - w,
        };
        Rect {
            x,
            y: self.y - LABEL_H + 3.0,
            w,
            h: LABEL_H,
        }
    }
}

/// Breadth-first layers from `<start>` (vertex 0); `<end>` (the last vertex) goes last.
fn layers(graph: &Graph) -> Vec<usize> {
    let n = graph.vertices.len();
    let end = n - 1;
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &graph.edges {
        out[e.from].push(e.to);
    }
    let mut layer = vec![usize::MAX; n];
    layer[0] = 0;
    let mut queue = VecDeque::from([0]);
    while let Some(v) = queue.pop_front() {
        for &w in &out[v] {
            if w != end && layer[w] == usize::MAX {
                layer[w] = layer[v] + 1;
                queue.push_back(w);
            }
        }
    }
    let deepest = layer[..end]
        .iter()
        .filter(|&&l| l != usize::MAX)
        .max()
        .copied()
        .unwrap_or(0);
    let unreached = layer[..end].contains(&usize::MAX);
    let extra = usize::from(unreached);
    for l in layer[..end].iter_mut() {
        if *l == usize::MAX {
            *l = deepest + 1;
        }
    }
    layer[end] = deepest + 1 + extra;
    layer
}

/// Renders the graph as a standalone SVG document.
pub fn render(graph: &Graph) -> String {
    let layout = Layout::new(graph);
    // Everything drawn, so that the view box can hold it all.
    let mut extent: Vec<Rect> = layout.boxes.iter().map(NodeBox::rect).collect();
    let clusters = draw_clusters(graph, &layout, &mut extent);
    let (paths, mut labels) = draw_edges(graph, &layout.boxes, &mut extent);
    place_labels(&layout.boxes, &mut labels, &mut extent);
    let nodes = draw_nodes(graph, &layout.boxes);
    let sinks = draw_sinks(graph, &mut extent);
    // Later parts are drawn over earlier ones: clusters at the back, labels over edges.
    document(
        &extent,
        &[&clusters, &paths, &nodes, &draw_labels(&labels), &sinks],
    )
}

/// The y of a layer's centre line.
fn layer_y(layer: usize) -> f64 {
    layer as f64 * LAYER_GAP
}

/// The index in `graph.groups` of a vertex's group; `None` for `<start>` and `<end>`.
fn group_index(graph: &Graph, v: usize) -> Option<usize> {
    let g = graph.vertices[v].group.as_ref()?;
    graph.groups.iter().position(|x| x == g)
}

/// A group's vertical band: its left edge and its width.
#[derive(Clone, Copy, Debug)]
struct Band {
    x: f64,
    w: f64,
}

/// Where everything goes: a box per vertex and a band per group.
struct Layout {
    boxes: Vec<NodeBox>,
    bands: Vec<Band>,
}

impl Layout {
    /// Places the vertices: layers from top to bottom, each group in its own band, and a
    /// group's vertices of one layer side by side, centred in the band. `<start>` and `<end>`
    /// are centred over the whole width.
    fn new(graph: &Graph) -> Layout {
        let n = graph.vertices.len();
        let layer = layers(graph);
        let layer_count = layer.iter().max().copied().unwrap_or(0) + 1;
        let widths = box_widths(graph);
        let rows = group_rows(graph, &layer);
        let (bands, bands_width) = bands(graph.groups.len(), layer_count, &rows, &widths);
        let total_width = bands_width.max(widths[0]).max(widths[n - 1]);
        let mut boxes: Vec<NodeBox> = (0..n)
            .map(|v| NodeBox {
                cx: total_width / 2.0,
                cy: layer_y(layer[v]),
                w: widths[v],
                layer: layer[v],
            })
            .collect();
        for (&(g, _), vs) in &rows {
            let mut x = bands[g].x + (bands[g].w - row_width(vs, &widths)) / 2.0;
            for &v in vs {
                boxes[v].cx = x + widths[v] / 2.0;
                x += widths[v] + NODE_GAP;
            }
        }
        Layout { boxes, bands }
    }
}

/// The width of each vertex's box: room for its name, and never narrower than 80.
fn box_widths(graph: &Graph) -> Vec<f64> {
    graph
        .vertices
        .iter()
        .map(|v| {
            // Ellipses need more room than rectangles for the same text.
            let pad = match v.kind {
                VertexKind::Datasource => 24.0,
                VertexKind::Start | VertexKind::End => 30.0,
            };
            (text_width(&v.name, NODE_FONT) + pad).max(80.0)
        })
        .collect()
}

/// The vertices of each (group, layer), in vertex order.
fn group_rows(graph: &Graph, layer: &[usize]) -> HashMap<(usize, usize), Vec<usize>> {
    let mut rows: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (v, &l) in layer.iter().enumerate() {
        if let Some(g) = group_index(graph, v) {
            rows.entry((g, l)).or_default().push(v);
        }
    }
    rows
}

/// The width of a row of boxes side by side.
fn row_width(vs: &[usize], widths: &[f64]) -> f64 {
    vs.iter().map(|&v| widths[v]).sum::<f64>() + NODE_GAP * (vs.len().max(1) - 1) as f64
}

/// One band per group, left to right, each as wide as the group's widest row; and the width
/// of all the bands together.
fn bands(
    groups: usize,
    layer_count: usize,
    rows: &HashMap<(usize, usize), Vec<usize>>,
    widths: &[f64],
) -> (Vec<Band>, f64) {
    let mut bands = Vec::with_capacity(groups);
    let mut x = 0.0;
    for g in 0..groups {
        let w = (0..layer_count)
            .filter_map(|l| rows.get(&(g, l)).map(|vs| row_width(vs, widths)))
            .fold(0.0, f64::max);
        bands.push(Band { x, w });
        x += w + BAND_GAP;
    }
    (bands, x - BAND_GAP)
}

/// The dashed cluster of each group around its band, with the group's name; drawn first so
/// that everything else lies on top.
fn draw_clusters(graph: &Graph, layout: &Layout, extent: &mut Vec<Rect>) -> String {
    let mut out = String::new();
    for (g, group) in graph.groups.iter().enumerate() {
        let vs: Vec<&NodeBox> = (0..graph.vertices.len())
            .filter(|&v| group_index(graph, v) == Some(g))
            .map(|v| &layout.boxes[v])
            .collect();
        let top = vs.iter().map(|b| b.top()).fold(f64::MAX, f64::min) - 26.0;
        let bottom = vs.iter().map(|b| b.bottom()).fold(f64::MIN, f64::max) + 12.0;
        let band = layout.bands[g];
        let r = Rect {
            x: band.x - 14.0,
            y: top,
            w: band.w + 28.0,
            h: bottom - top,
        };
        let _ = writeln!(
            out,
            r##"<rect class="cluster" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8"/>"##,
            r.x, r.y, r.w, r.h
        );
        let _ = writeln!(
            out,
            r#"<text class="group" x="{:.1}" y="{:.1}">{}</text>"#,
            r.x + 8.0,
            r.y + 15.0,
            xml(group)
        );
        extent.push(r);
    }
    out
}

/// An edge as a cubic Bézier curve, and where its label goes: `dx` from the curve's middle,
/// anchored at `anchor`.
struct Curve {
    p0: (f64, f64),
    p1: (f64, f64),
    p2: (f64, f64),
    p3: (f64, f64),
    anchor: TextAnchor,
    dx: f64,
}

impl Curve {
    /// The point at the curve's middle (t = 1/2).
    fn middle(&self) -> (f64, f64) {
        let (p0, p1, p2, p3) = (self.p0, self.p1, self.p2, self.p3);
        (
            (p0.0 + 3.0 * p1.0 + 3.0 * p2.0 + p3.0) / 8.0,
            (p0.1 + 3.0 * p1.1 + 3.0 * p2.1 + p3.1) / 8.0,
        )
    }
}

/// The curve of an edge between the vertices `from` and `to`, the `k`th of `m` parallel edges
/// between them.
fn edge_curve(boxes: &[NodeBox], from: usize, to: usize, k: f64, m: f64) -> Curve {
    let (a, b) = (boxes[from], boxes[to]);
    if from == to {
        self_loop_curve(a, k)
    } else if b.layer == a.layer {
        side_by_side_curve(boxes, a, b, k)
    } else if b.layer == a.layer + 1 {
        next_layer_curve(a, b, k, m)
    } else {
        around_left_curve(boxes, a, b, k)
    }
}

/// A loop on the right of the box, wider for each parallel loop.
fn self_loop_curve(a: NodeBox, k: f64) -> Curve {
    let reach = 48.0 + 24.0 * k;
    let rise = 26.0 + 8.0 * k;
    Curve {
        p0: (a.right(), a.cy - 9.0),
        p1: (a.right() + reach, a.cy - rise),
        p2: (a.right() + reach, a.cy + rise),
        p3: (a.right(), a.cy + 9.0),
        anchor: TextAnchor::Start,
        dx: 4.0,
    }
}

/// Between boxes of one layer: rightward edges arc above, leftward ones below, higher the
/// more boxes lie between.
fn side_by_side_curve(boxes: &[NodeBox], a: NodeBox, b: NodeBox, k: f64) -> Curve {
    let dir = if b.cx > a.cx { 1.0 } else { -1.0 };
    let between = boxes
        .iter()
        .filter(|x| x.layer == a.layer && (x.cx - a.cx) * (x.cx - b.cx) < 0.0)
        .count() as f64;
    let lift = -dir * (16.0 + 30.0 * between + 10.0 * k);
    let side = -dir * 6.0;
    let p0 = (a.cx + dir * a.w / 2.0, a.cy + side);
    let p3 = (b.cx - dir * b.w / 2.0, b.cy + side);
    Curve {
        p0,
        p1: (p0.0 + dir * 24.0, p0.1 + lift),
        p2: (p3.0 - dir * 24.0, p3.1 + lift),
        p3,
        anchor: TextAnchor::Middle,
        dx: 0.0,
    }
}

/// To the next layer: from the bottom of one box to the top of the other, parallel edges
/// fanned out around the centre.
fn next_layer_curve(a: NodeBox, b: NodeBox, k: f64, m: f64) -> Curve {
    let off = (k - (m - 1.0) / 2.0) * 18.0;
    let p0 = (a.cx + off, a.bottom());
    let p3 = (b.cx + off, b.top());
    let dy = (p3.1 - p0.1) * 0.45;
    Curve {
        p0,
        p1: (p0.0 + off * 2.0, p0.1 + dy),
        p2: (p3.0 + off * 2.0, p3.1 - dy),
        p3,
        anchor: if off < 0.0 {
            TextAnchor::End
        } else {
            TextAnchor::Start
        },
        dx: if off < 0.0 { -6.0 } else { 6.0 },
    }
}

/// Back up or over several layers: an arc around the left of every box in the layers the
/// edge spans, wider the more layers it spans.
fn around_left_curve(boxes: &[NodeBox], a: NodeBox, b: NodeBox, k: f64) -> Curve {
    let (lo, hi) = (a.layer.min(b.layer), a.layer.max(b.layer));
    let base = boxes
        .iter()
        .filter(|x| x.layer >= lo && x.layer <= hi)
        .map(|x| x.left())
        .fold(f64::MAX, f64::min);
    let bulge = 36.0 + 26.0 * (hi - lo).saturating_sub(1) as f64 + 14.0 * k;
    let p0 = (a.left(), a.cy + 5.0);
    let p3 = (b.left(), b.cy - 5.0);
    Curve {
        p0,
        p1: (base - bulge * 1.3, p0.1),
        p2: (base - bulge * 1.3, p3.1),
        p3,
        anchor: TextAnchor::End,
        dx: -4.0,
    }
}

/// How heavy an edge is drawn: its probability, the larger one if it drifts.
fn edge_weight(chance: Chance) -> f64 {
    match chance {
        Chance::Fixed(p) => p,
        Chance::Drifting { start, end } => start.max(end),
        Chance::Turn { of, .. } => 1.0 / of as f64,
    }
}

/// The path of every edge, with its label text as a tooltip; and the labels, placed at the
/// middle of their curves (not yet moved off each other).
fn draw_edges(graph: &Graph, boxes: &[NodeBox], extent: &mut Vec<Rect>) -> (String, Vec<Label>) {
    // Parallel edges are numbered so that they fan out.
    let mut parallel: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (i, e) in graph.edges.iter().enumerate() {
        parallel.entry((e.from, e.to)).or_default().push(i);
    }
    let mut paths = String::new();
    let mut labels = Vec::with_capacity(graph.edges.len());
    for (i, e) in graph.edges.iter().enumerate() {
        let siblings = &parallel[&(e.from, e.to)];
        let k = siblings.iter().position(|&s| s == i).unwrap_or(0) as f64;
        let m = siblings.len() as f64;
        let curve = edge_curve(boxes, e.from, e.to, k, m);
        let Curve { p0, p1, p2, p3, .. } = curve;
        let weight = edge_weight(e.chance);
        let class = if weight > 0.0 { "edge" } else { "edge never" };
        let _ = writeln!(
            paths,
            r#"<path class="{class}" d="M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" stroke-width="{:.2}"><title>{}</title></path>"#,
            p0.0,
            p0.1,
            p1.0,
            p1.1,
            p2.0,
            p2.1,
            p3.0,
            p3.1,
            0.9 + 2.1 * weight.clamp(0.0, 1.0),
            xml(&format!(
                "{} → {}: {}",
                graph.vertices[e.from].name,
                graph.vertices[e.to].name,
                e.label()
            ))
        );
        for p in [p0, p1, p2, p3] {
            extent.push(Rect {
                x: p.0,
                y: p.1,
                w: 0.0,
                h: 0.0,
            });
        }
        let mid = curve.middle();
        labels.push(Label {
            x: mid.0 + curve.dx,
            y: mid.1 + 4.0,
            anchor: curve.anchor,
            text: e.label(),
        });
    }
    (paths, labels)
}

/// Nudges each label up or down, in steps of a line, until it covers no box and no label
/// placed before it; a label with no free spot within 12 lines stays where it was.
fn place_labels(boxes: &[NodeBox], labels: &mut [Label], extent: &mut Vec<Rect>) {
    let mut taken: Vec<Rect> = boxes
        .iter()
        .map(|b| Rect {
            x: b.left() - 2.0,
            y: b.top() - 2.0,
            w: b.w + 4.0,
            h: NODE_H + 4.0,
        })
        .collect();
    for label in labels {
        let y0 = label.y;
        for step in 0..24 {
            let shift = ((step + 1) / 2) as f64 * LABEL_H * if step % 2 == 1 { 1.0 } else { -1.0 };
            label.y = y0 + shift;
            let r = label.rect();
            if !taken.iter().any(|t| t.overlaps(&r)) {
                break;
            }
            if step == 23 {
                label.y = y0;
            }
        }
        let r = label.rect();
        taken.push(r);
        extent.push(r);
    }
}

/// The edge labels.
fn draw_labels(labels: &[Label]) -> String {
    let mut out = String::new();
    for l in labels {
        let _ = writeln!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="{}">{}</text>"#,
            l.x,
            l.y,
            l.anchor.as_str(),
            xml(&l.text)
        );
    }
    out
}

/// The vertices: datasources as rounded boxes, `<start>` and `<end>` as ellipses, each with
/// its name.
fn draw_nodes(graph: &Graph, boxes: &[NodeBox]) -> String {
    let mut out = String::new();
    for (vertex, b) in graph.vertices.iter().zip(boxes) {
        match vertex.kind {
            VertexKind::Datasource => {
                let _ = writeln!(
                    out,
                    r#"<rect class="node" x="{:.1}" y="{:.1}" width="{:.1}" height="{NODE_H}" rx="6"/>"#,
                    b.left(),
                    b.top(),
                    b.w
                );
            }
            VertexKind::Start | VertexKind::End => {
                let _ = writeln!(
                    out,
                    r#"<ellipse class="terminal" cx="{:.1}" cy="{:.1}" rx="{:.1}" ry="{:.1}"/>"#,
                    b.cx,
                    b.cy,
                    b.w / 2.0,
                    NODE_H / 2.0
                );
            }
        }
        let _ = writeln!(
            out,
            r#"<text class="name" x="{:.1}" y="{:.1}">{}</text>"#,
            b.cx,
            b.cy + NODE_FONT * 0.35,
            xml(&vertex.name)
        );
    }
    out
}

/// The lines of a sink's box: its name and type, then the datasources it takes, wrapped at
/// about 34 characters.
fn sink_lines(sink: &SinkBox) -> Vec<String> {
    let mut lines = vec![format!("sink {} ({})", sink.name, sink.type_name)];
    let mut line = String::from("takes:");
    for r in &sink.refs {
        if line.len() + r.len() > 34 && line != "takes:" {
            lines.push(std::mem::take(&mut line));
        }
        line.push(' ');
        line.push_str(r);
    }
    lines.push(line);
    lines
}

/// The sinks as boxes in a column right of everything drawn so far.
fn draw_sinks(graph: &Graph, extent: &mut Vec<Rect>) -> String {
    let mut out = String::new();
    if graph.sinks.is_empty() {
        return out;
    }
    let right = extent.iter().map(|r| r.x + r.w).fold(f64::MIN, f64::max) + 40.0;
    let mut y = layer_y(1) - NODE_H / 2.0;
    for sink in &graph.sinks {
        let lines = sink_lines(sink);
        let w = lines
            .iter()
            .map(|l| text_width(l, LABEL_FONT + 1.0))
            .fold(0.0, f64::max)
            + 20.0;
        let h = lines.len() as f64 * 16.0 + 10.0;
        let _ = writeln!(
            out,
            r#"<rect class="sink" x="{right:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="3"/>"#
        );
        for (i, l) in lines.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<text class="{}" x="{:.1}" y="{:.1}">{}</text>"#,
                if i == 0 { "sinkname" } else { "sinkrefs" },
                right + 10.0,
                y + 20.0 + i as f64 * 16.0,
                xml(l)
            );
        }
        extent.push(Rect { x: right, y, w, h });
        y += h + 20.0;
    }
    out
}

/// The arrowhead and the style sheet every drawing shares.
const DEFS_AND_STYLE: &str = r##"<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">
<path d="M0,0 L10,5 L0,10 z" fill="#4a5568"/>
</marker>
</defs>
<style>
.cluster { fill: #f5f8fc; stroke: #9fb3c8; stroke-dasharray: 5 4; }
.group { font-size: 12px; fill: #52667a; font-style: italic; }
.node { fill: #ffffff; stroke: #2d3748; stroke-width: 1.3; }
.terminal { fill: #edf2f7; stroke: #2d3748; stroke-width: 1.3; }
.name { font-size: 13px; text-anchor: middle; fill: #1a202c; }
.edge { fill: none; stroke: #4a5568; marker-end: url(#arrow); }
.never { stroke-dasharray: 3 3; stroke: #a0aec0; }
.label { font-size: 11px; fill: #2d3748; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
.sink { fill: #fffaf0; stroke: #c05621; stroke-dasharray: 4 3; }
.sinkname { font-size: 12px; font-weight: bold; fill: #7b341e; }
.sinkrefs { font-size: 12px; fill: #7b341e; }
</style>
"##;

/// The SVG document: a view box around `extent` with a 20 px margin, the shared definitions,
/// a white background, then `parts` in order.
fn document(extent: &[Rect], parts: &[&str]) -> String {
    let min_x = extent.iter().map(|r| r.x).fold(f64::MAX, f64::min) - 20.0;
    let min_y = extent.iter().map(|r| r.y).fold(f64::MAX, f64::min) - 20.0;
    let max_x = extent.iter().map(|r| r.x + r.w).fold(f64::MIN, f64::max) + 20.0;
    let max_y = extent.iter().map(|r| r.y + r.h).fold(f64::MIN, f64::max) + 20.0;
    let (w, h) = (max_x - min_x, max_y - min_y);

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{min_x:.1} {min_y:.1} {w:.1} {h:.1}" width="{w:.0}" height="{h:.0}" font-family="Helvetica, Arial, sans-serif">"#
    );
    out.push_str(DEFS_AND_STYLE);
    let _ = writeln!(
        out,
        r#"<rect x="{min_x:.1}" y="{min_y:.1}" width="{w:.1}" height="{h:.1}" fill="white"/>"#
    );
    for part in parts {
        out.push_str(part);
    }
    out.push_str("</svg>\n");
    out
}

/// Escapes text for XML content and attribute values.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_xml() {
        assert_eq!(
            xml("<a & \"b\" 'c'>\u{1}"),
            "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;\u{FFFD}"
        );
    }
}
