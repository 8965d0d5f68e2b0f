//! Tests of the render_services artifacts (filled in below).
