//! Held-out evaluation: baseline vs treated runs.
