"""`python -m bench`: cold start, warm overhead, hashing, round trips, memory and load (docs/performance.md)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "core"
RESULTS = ROOT / "bench" / "results"
if str(LAYER) not in sys.path:  # what Lambda puts on sys.path for the layer (pytest's pythonpath does the same)
    sys.path.insert(0, str(LAYER))
