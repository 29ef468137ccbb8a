"""The colours of every picture, in one place: (fill, stroke) by node class. Dark text on light fills, readable
on a light page and on GitHub's dark theme alike; changes and health also say themselves in words, never in
colour alone."""

from __future__ import annotations

TEXT = "#2d3748"  # dark slate (also never reads as an issue reference `#1` around a diagram)
MUTED = "#4a5568"
EDGE = "#718096"

NODES = {
    "route": ("#e8f1fb", "#2b6cb0"),
    "authorization": ("#f3e8fd", "#6b46c1"),
    "integration": ("#e6f6f3", "#2c7a7b"),
    "service": ("#fdf3e1", "#b7791f"),
    "healthy": ("#e6f4ea", "#2f855a"),
    "unhealthy": ("#fde8e8", "#c53030"),
    "unknown": ("#edf2f7", "#718096"),
    "missing": ("#f7fafc", "#a0aec0"),
    "added": ("#c6f6d5", "#276749"),
    "changed": ("#fefcbf", "#c05621"),
    "removed": ("#fed7d7", "#9b2c2c"),
}
MARKS = ("added", "changed", "removed")  # drawn with a wide stroke
DASHED = {"missing": "4 3", "removed": "6 3"}
BLOCKED_EDGE = "#c53030"  # an instance that matches but is kept out by its health
