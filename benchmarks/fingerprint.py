"""A fingerprint of 16 runs, to show that a speed-up changed no number.

    .venv/bin/python -m benchmarks.fingerprint before.json     # on the old code
    .venv/bin/python -m benchmarks.fingerprint after.json      # on the new code; then: diff before.json after.json

Each of the four bundled scenarios (8,000 seekers, 70 weeks, seed 3), as it is, with
`providers.network_share=0.3`, with `market.congestion=false` and with mandatory referral under
`outcome_only`, hashed (SHA-256) over every seeker array, the history log, the weekly series, the
individuals, the summary, the providers' revenue and running cost, each client's cost, and the random
stream's final state.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

from benchmarks.run import SCENARIOS

VARIANTS = ([], ["providers.network_share=0.3"], ["market.congestion=false"],
            ["referral.mode=mandatory", "payment.preset=outcome_only"])


def fingerprint(path, extra: list[str]) -> str:
    from labsim.config.scenario import load_scenario
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    sc = load_scenario(path, ["area.job_seekers=8000", "weeks=70", *extra])
    m = PilotModel(sc, rng=3)
    m.run_for(sc.weeks)
    h = hashlib.sha256()
    for name, value in sorted(vars(m.seekers).items()):
        if isinstance(value, np.ndarray):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())
    for part in m.history.log():
        h.update(part.tobytes())
    r = results_of(m)
    h.update(r.weekly.to_csv().encode())
    h.update(r.individuals.to_csv().encode())
    h.update(json.dumps(r.summary, sort_keys=True, default=str).encode())
    for a in (m.accounts.revenue, m.accounts.client_cost, m.accounts.running_cost):
        h.update(a.tobytes())
    h.update(m.rng.bit_generator.state["state"]["state"].to_bytes(16, "little"))
    return h.hexdigest()[:16]


def main() -> None:
    out = {f"{p.stem} {' '.join(v)}".strip(): fingerprint(p, v) for p in sorted(SCENARIOS.glob("*.toml"))
           for v in VARIANTS}
    json.dump(out, open(sys.argv[1], "w"), indent=1)
    print(f"{len(out)} runs written to {sys.argv[1]}")


if __name__ == "__main__":
    main()
