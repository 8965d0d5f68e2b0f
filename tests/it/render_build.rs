//! Tests of the render_build artifacts (filled in below).
