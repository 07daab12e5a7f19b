"""Rewrite the generated parts of docs/architecture.md: the layer table (from src/labsim/layers.toml)
and the module map (every module with the first sentence of its docstring). tests/test_layers.py fails
until they match the code. Usage: .venv/bin/python scripts/architecture.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_layers import DOC, layer_table, module_map  # noqa: E402


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    for part, render in (("layers", layer_table), ("modules", module_map)):
        text = re.sub(rf"(<!-- {part}: generated.*?-->\n).*?(\n<!-- end {part} -->)",
                      lambda m, r=render: m.group(1) + r() + m.group(2), text, flags=re.S)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
