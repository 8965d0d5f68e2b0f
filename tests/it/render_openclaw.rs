//! Tests of the render_openclaw artifacts (filled in below).
