//! Tests of the render_headscale artifacts (filled in below).
