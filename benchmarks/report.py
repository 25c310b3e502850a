"""How the benchmarks show their figures: an aligned table on the terminal, and JSON when asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def print_figures(figures: dict[str, Any], json_path: Path | None = None) -> None:
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
