//! The diagram as text for other tools: Mermaid (renders in GitHub and
//! GitLab Markdown) and Graphviz DOT.

use super::Diagram;
use super::template::render;

/// The diagram as a Mermaid flowchart (`templates/diagram.mmd.j2`).
pub fn mermaid(diagram: &Diagram) -> String {
    render("diagram.mmd.j2", diagram)
}

/// The diagram as a Graphviz digraph (`dot -Tsvg` draws it;
/// `templates/diagram.dot.j2`).
pub fn dot(diagram: &Diagram) -> String {
    render("diagram.dot.j2", diagram)
}
