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

use super::graph::{Chance, Graph, VertexKind};
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
}

/// A placed edge label.
struct Label {
    x: f64,
    y: f64,
    anchor: &'static str,
    text: String,
}

impl Label {
    fn rect(&self) -> Rect {
        let w = text_width(&self.text, LABEL_FONT);
        let x = match self.anchor {
            "end" => self.x - w,
            "middle" => self.x - w / 2.0,
            _ => self.x,
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
    let n = graph.vertices.len();
    let layer = layers(graph);
    let layer_count = layer.iter().max().copied().unwrap_or(0) + 1;
    let widths: Vec<f64> = graph
        .vertices
        .iter()
        .map(|v| {
            let pad = if v.kind == VertexKind::Datasource {
                24.0
            } else {
                30.0
            };
            (text_width(&v.name, NODE_FONT) + pad).max(80.0)
        })
        .collect();

    // Bands: one per group, as wide as its widest layer.
    let group_of = |v: usize| -> Option<usize> {
        let g = graph.vertices[v].group.as_ref()?;
        graph.groups.iter().position(|x| x == g)
    };
    let mut members: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (v, &l) in layer.iter().enumerate() {
        if let Some(g) = group_of(v) {
            members.entry((g, l)).or_default().push(v);
        }
    }
    let row_width = |vs: &[usize]| -> f64 {
        vs.iter().map(|&v| widths[v]).sum::<f64>() + NODE_GAP * (vs.len().max(1) - 1) as f64
    };
    let band_widths: Vec<f64> = (0..graph.groups.len())
        .map(|g| {
            (0..layer_count)
                .filter_map(|l| members.get(&(g, l)).map(|vs| row_width(vs)))
                .fold(0.0, f64::max)
        })
        .collect();
    let mut band_x = Vec::with_capacity(band_widths.len());
    let mut x = 0.0;
    for w in &band_widths {
        band_x.push(x);
        x += w + BAND_GAP;
    }
    let total_width = (x - BAND_GAP).max(widths[0]).max(widths[n - 1]);

    let y_of = |l: usize| l as f64 * LAYER_GAP;
    let mut boxes: Vec<NodeBox> = (0..n)
        .map(|v| NodeBox {
            cx: total_width / 2.0,
            cy: y_of(layer[v]),
            w: widths[v],
            layer: layer[v],
        })
        .collect();
    for (&(g, _), vs) in &members {
        let mut x = band_x[g] + (band_widths[g] - row_width(vs)) / 2.0;
        for &v in vs {
            boxes[v].cx = x + widths[v] / 2.0;
            x += widths[v] + NODE_GAP;
        }
    }

    let mut body = String::new();
    let mut extent: Vec<Rect> = boxes
        .iter()
        .map(|b| Rect {
            x: b.left(),
            y: b.top(),
            w: b.w,
            h: NODE_H,
        })
        .collect();

    // Clusters, drawn first so that everything else lies on top.
    for (g, group) in graph.groups.iter().enumerate() {
        let vs: Vec<&NodeBox> = (0..n)
            .filter(|&v| group_of(v) == Some(g))
            .map(|v| &boxes[v])
            .collect();
        let top = vs.iter().map(|b| b.top()).fold(f64::MAX, f64::min) - 26.0;
        let bottom = vs.iter().map(|b| b.bottom()).fold(f64::MIN, f64::max) + 12.0;
        let r = Rect {
            x: band_x[g] - 14.0,
            y: top,
            w: band_widths[g] + 28.0,
            h: bottom - top,
        };
        let _ = writeln!(
            body,
            r##"<rect class="cluster" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8"/>"##,
            r.x, r.y, r.w, r.h
        );
        let _ = writeln!(
            body,
            r#"<text class="group" x="{:.1}" y="{:.1}">{}</text>"#,
            r.x + 8.0,
            r.y + 15.0,
            xml(group)
        );
        extent.push(r);
    }

    // Edges: group parallel edges so that they fan out.
    let mut parallel: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (i, e) in graph.edges.iter().enumerate() {
        parallel.entry((e.from, e.to)).or_default().push(i);
    }
    let mut labels: Vec<Label> = Vec::new();
    let mut paths = String::new();
    for (i, e) in graph.edges.iter().enumerate() {
        let siblings = &parallel[&(e.from, e.to)];
        let k = siblings.iter().position(|&s| s == i).unwrap_or(0) as f64;
        let m = siblings.len() as f64;
        let (a, b) = (boxes[e.from], boxes[e.to]);
        let (p0, p1, p2, p3, anchor, dx);
        if e.from == e.to {
            let reach = 48.0 + 24.0 * k;
            let rise = 26.0 + 8.0 * k;
            p0 = (a.right(), a.cy - 9.0);
            p3 = (a.right(), a.cy + 9.0);
            p1 = (a.right() + reach, a.cy - rise);
            p2 = (a.right() + reach, a.cy + rise);
            anchor = "start";
            dx = 4.0;
        } else if b.layer == a.layer {
            // Side by side: rightward edges arc above, leftward ones below, higher the more
            // boxes lie between.
            let dir = if b.cx > a.cx { 1.0 } else { -1.0 };
            let between = boxes
                .iter()
                .filter(|x| x.layer == a.layer && (x.cx - a.cx) * (x.cx - b.cx) < 0.0)
                .count() as f64;
            let lift = -dir * (16.0 + 30.0 * between + 10.0 * k);
            let side = -dir * 6.0;
            p0 = (a.cx + dir * a.w / 2.0, a.cy + side);
            p3 = (b.cx - dir * b.w / 2.0, b.cy + side);
            p1 = (p0.0 + dir * 24.0, p0.1 + lift);
            p2 = (p3.0 - dir * 24.0, p3.1 + lift);
            anchor = "middle";
            dx = 0.0;
        } else if b.layer == a.layer + 1 {
            let off = (k - (m - 1.0) / 2.0) * 18.0;
            p0 = (a.cx + off, a.bottom());
            p3 = (b.cx + off, b.top());
            let dy = (p3.1 - p0.1) * 0.45;
            p1 = (p0.0 + off * 2.0, p0.1 + dy);
            p2 = (p3.0 + off * 2.0, p3.1 - dy);
            anchor = if off < 0.0 { "end" } else { "start" };
            dx = if off < 0.0 { -6.0 } else { 6.0 };
        } else {
            // Around the left of every box in the layers the edge spans.
            let (lo, hi) = (a.layer.min(b.layer), a.layer.max(b.layer));
            let base = boxes
                .iter()
                .filter(|x| x.layer >= lo && x.layer <= hi)
                .map(|x| x.left())
                .fold(f64::MAX, f64::min);
            let bulge = 36.0 + 26.0 * (hi - lo).saturating_sub(1) as f64 + 14.0 * k;
            p0 = (a.left(), a.cy + 5.0);
            p3 = (b.left(), b.cy - 5.0);
            p1 = (base - bulge * 1.3, p0.1);
            p2 = (base - bulge * 1.3, p3.1);
            anchor = "end";
            dx = -4.0;
        }
        let mid = (
            (p0.0 + 3.0 * p1.0 + 3.0 * p2.0 + p3.0) / 8.0,
            (p0.1 + 3.0 * p1.1 + 3.0 * p2.1 + p3.1) / 8.0,
        );
        let weight = match e.chance {
            Chance::Fixed(p) => p,
            Chance::Drifting { start, end } => start.max(end),
            Chance::Turn { of, .. } => 1.0 / of as f64,
        };
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
        labels.push(Label {
            x: mid.0 + dx,
            y: mid.1 + 4.0,
            anchor,
            text: e.label(),
        });
    }

    // Nudge labels off boxes and off each other.
    let mut taken: Vec<Rect> = boxes
        .iter()
        .map(|b| Rect {
            x: b.left() - 2.0,
            y: b.top() - 2.0,
            w: b.w + 4.0,
            h: NODE_H + 4.0,
        })
        .collect();
    for label in &mut labels {
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

    let mut nodes = String::new();
    for (v, vertex) in graph.vertices.iter().enumerate() {
        let b = boxes[v];
        match vertex.kind {
            VertexKind::Datasource => {
                let _ = writeln!(
                    nodes,
                    r#"<rect class="node" x="{:.1}" y="{:.1}" width="{:.1}" height="{NODE_H}" rx="6"/>"#,
                    b.left(),
                    b.top(),
                    b.w
                );
            }
            VertexKind::Start | VertexKind::End => {
                let _ = writeln!(
                    nodes,
                    r#"<ellipse class="terminal" cx="{:.1}" cy="{:.1}" rx="{:.1}" ry="{:.1}"/>"#,
                    b.cx,
                    b.cy,
                    b.w / 2.0,
                    NODE_H / 2.0
                );
            }
        }
        let _ = writeln!(
            nodes,
            r#"<text class="name" x="{:.1}" y="{:.1}">{}</text>"#,
            b.cx,
            b.cy + NODE_FONT * 0.35,
            xml(&vertex.name)
        );
    }

    // Sinks: boxes in a column on the right, each listing the datasources it takes.
    let mut sinks = String::new();
    if !graph.sinks.is_empty() {
        let right = extent.iter().map(|r| r.x + r.w).fold(f64::MIN, f64::max) + 40.0;
        let mut y = y_of(1) - NODE_H / 2.0;
        for sink in &graph.sinks {
            let title = format!("sink {} ({})", sink.name, sink.type_name);
            let mut lines = vec![title];
            let mut line = String::from("takes:");
            for r in &sink.refs {
                if line.len() + r.len() > 34 && line != "takes:" {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(' ');
                line.push_str(r);
            }
            lines.push(line);
            let w = lines
                .iter()
                .map(|l| text_width(l, LABEL_FONT + 1.0))
                .fold(0.0, f64::max)
                + 20.0;
            let h = lines.len() as f64 * 16.0 + 10.0;
            let _ = writeln!(
                sinks,
                r#"<rect class="sink" x="{right:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="3"/>"#
            );
            for (i, l) in lines.iter().enumerate() {
                let _ = writeln!(
                    sinks,
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
    }

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
    out.push_str(
        r##"<defs>
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
"##,
    );
    let _ = writeln!(
        out,
        r#"<rect x="{min_x:.1}" y="{min_y:.1}" width="{w:.1}" height="{h:.1}" fill="white"/>"#
    );
    out.push_str(&body);
    out.push_str(&paths);
    out.push_str(&nodes);
    for l in &labels {
        let _ = writeln!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="{}">{}</text>"#,
            l.x,
            l.y,
            l.anchor,
            xml(&l.text)
        );
    }
    out.push_str(&sinks);
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
