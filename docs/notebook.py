"""Load a nines run with pandas and draw one figure from it.

    nines run scenarios/three-tier.toml --out output/three-tier
    python3 docs/notebook.py output/three-tier            # writes output/three-tier/availability.png

metrics.csv is long ("tidy"): one row per trial, subject, metric and value,
so the same few lines work for any scenario. summary.json carries the
figures across trials; its shape is `nines schema summary`.
CI runs this script (.ci/run) where Python with pandas and matplotlib is
present or installs into a virtual environment, and checks what it prints.
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def load(run: Path):
    """The run's summary (a dict) and its per-trial metrics (a DataFrame)."""
    summary = json.loads((run / "summary.json").read_text())
    if summary["format"].split("/")[0] != "summary":
        raise SystemExit(f"{run}/summary.json is not a nines summary")
    metrics = pd.read_csv(run / "metrics.csv")
    return summary, metrics


def main() -> None:
    run = Path(sys.argv[1] if len(sys.argv) > 1 else "output/three-tier")
    summary, metrics = load(run)
    # Availability per trial, one column per service, one row per trial.
    services = metrics[metrics.subject.str.startswith("service.") & (metrics.metric == "availability")]
    wide = services.pivot(index="trial", columns="subject", values="value")
    wide.columns = [c.removeprefix("service.") for c in wide.columns]
    # Unavailability per trial; a trial without downtime has none to draw.
    down = (1 - wide).where(lambda d: d > 0)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.boxplot([down[c].dropna() for c in down.columns], tick_labels=list(down.columns))
    ax.set_yscale("log")
    ax.set_ylabel("unavailability per trial (trials with downtime)")
    a = summary["availability"]
    ax.set_title(f"{summary['scenario']}: {a['nines']:.2f} nines over {summary['trials']} trials")
    fig.tight_layout()
    out = run / "availability.png"
    fig.savefig(out, dpi=100)
    # What a notebook would show: the mean per service, beside summary.json's.
    for name in wide.columns:
        from_csv = wide[name].mean()
        from_json = summary["services"][name]["availability"]["mean"]
        print(f"{name:16} mean availability {from_csv:.9f} (summary.json {from_json:.9f})")
        if abs(from_csv - from_json) > 1e-9:
            raise SystemExit(f"{name}: metrics.csv and summary.json disagree")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
