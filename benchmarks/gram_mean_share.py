"""How much of each style layer's Gram matrix is the mean's outer product (docs/theory.md §2).

For every built-in texture exemplar at 128 px and every style layer: ‖m mᵀ‖ / ‖G‖ (the share of
G's Frobenius norm in the rank-one mean term) and ‖G‖ / ‖S‖ (how much a relative error of G can
be amplified in the covariance S = G − m mᵀ).  Prints a Markdown table.

    PYTHONPATH=src python benchmarks/gram_mean_share.py
"""

from __future__ import annotations

import torch

from texstyle.stats import covariance, gram, mean
from texstyle.studies.experiment import exemplar_at
from texstyle.studies.moments import moment_extractor

EXEMPLARS = ("cells", "brick", "mosaic", "gravel", "grass")


def main() -> None:
    extractor = moment_extractor()
    rows = []
    for name in EXEMPLARS:
        with torch.no_grad():
            feats = extractor(exemplar_at(f"sample:{name}", 128))
        cells = []
        for f in feats.values():
            g, m = gram(f.double()), mean(f.double())
            outer = m[:, :, None] * m[:, None, :]
            cells.append(f"{float(outer.norm() / g.norm()):.2f} / "
                         f"{float(g.norm() / covariance(m, g).norm()):.1f}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    print("| exemplar | " + " | ".join(f"{n} ‖mmᵀ‖/‖G‖ / ‖G‖/‖S‖" for n in feats) + " |")
    print("|---|" + "---|" * len(feats))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
