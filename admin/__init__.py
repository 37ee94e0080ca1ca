"""The deployer's command-line tools (AWS credentials for the stack's account; never reachable through the API)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[1] / "layers" / "core"


def use_table(table: str) -> None:
    """Point authcore at a deployed stack's table and make the layer importable (before importing authcore)."""
    os.environ["TABLE_NAME"] = table  # read by authcore's settings, on first use
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
