"""worker.py on the drill's fast clock: the same entry, ticking every AFTERCARE_DRILL_TICK_S seconds.

The worker's tick (claim due touches, re-enqueue lost work, page sweeps) runs every 15 s in
production; the drill shortens it so minutes of traffic fit in a short run. Nothing else changes.
"""

from __future__ import annotations

import os

import worker

if __name__ == "__main__":
    worker.TICK_SECONDS = float(os.environ.get("AFTERCARE_DRILL_TICK_S", "2"))
    raise SystemExit(worker.main())
