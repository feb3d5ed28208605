"""Independent quality benchmark: texstyle against two peers, judged by measures that use no VGG.

Painting/photo pairs (stylisation) and texture exemplars from ``../shared/images`` and texstyle's
built-in samples; three kinds of system, each a function (case, size, seed) -> image, seconds:

* ``texstyle``: ``texstyle.api.run_stylize`` / ``run_texture`` with the current defaults, or a
  labelled variant (``--label NAME --texstyle-opt key=value ...``; several labels make several
  variants, each ``--texstyle-opt`` applies to the label before it);
* ``gatys``: a plain Gatys et al. (2016) (benchmarks/peers.py);
* ``recipe``: the crowsonkb/style-transfer-pytorch recipe (benchmarks/peers.py).

The measures (benchmarks/quality_measures.py, with their directions) are SSIM and edge agreement
with the photo, a sliced-Wasserstein colour distance and a Portilla-Simoncelli style distance to
the painting / exemplar, and two artefact ratios (speckle, grid) relative to the painting's own.

Every result is cached as PNG + JSON under ``--cache`` (default /work/qcache, outside the repo),
keyed by system, its settings (texstyle: also a fingerprint of the installed package's source),
case, size and seed; a cached result is reused unless ``--no-cache``.

    python benchmarks/quality.py --quick                      # 2 pairs + 2 textures at 64 px
    python benchmarks/quality.py --sizes 128 --threads 1      # everything at 128 px
    python benchmarks/quality.py --systems texstyle --label sw10 --texstyle-opt style_weight=10 \\
        --label sw30 --texstyle-opt style_weight=30 --sizes 128
    python benchmarks/quality.py --systems gatys --cases astronaut-mosaic brick --sizes 256

Writes to ``--out`` (default out/quality): quality_SIZE.md (summary and per-case tables),
quality.json (everything), sheet_SIZE_stylize.png and sheet_SIZE_texture.png (contact sheets:
rows are cases; columns photo, painting, then each system), and with ``--builtin-sheet`` a JPEG
sheet made only of cases whose inputs are all built-in samples (safe to publish).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
import quality_measures as qm

REPO = Path(__file__).resolve().parents[1]
DEFAULT_IMAGES = REPO.parent / "shared" / "images"
DEFAULT_CACHE = Path("/work/qcache")


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "stylize" or "texture"
    style: str  # painting or exemplar: a file name in the images folder, or sample:NAME
    photo: str | None = None

    @property
    def builtin(self) -> bool:
        return all(s is None or s.startswith("sample:") for s in (self.style, self.photo))


# Every photo and every painting appears; the pairs are fixed.
PAIRS = [
    Case("amber-wave", "stylize", "style_wave_crop.jpg", "content_amber.jpg"),
    Case("chicago-udnie", "stylize", "style_udnie.jpg", "content_chicago.jpg"),
    Case("flowers-composition", "stylize", "style_composition_vii.jpg", "content_flowers.jpg"),
    Case("sailboat-shipwreck", "stylize", "style_shipwreck.jpg", "content_sailboat.jpg"),
    Case("cat-mosaicjpg", "stylize", "style_mosaic.jpg", "sample:cat"),
    Case("astronaut-mosaic", "stylize", "sample:mosaic", "sample:astronaut"),
    Case("coffee-wave", "stylize", "style_wave_crop.jpg", "sample:coffee"),
    Case("rocket-mosaic", "stylize", "sample:mosaic", "sample:rocket"),
]
TEXTURES = [
    Case("U145220", "texture", "texture_U145220.png"),
    Case("U151643", "texture", "texture_U151643.png"),
    Case("U155728", "texture", "texture_U155728.png"),
    Case("brick1", "texture", "texture_brick1.jpg"),
    Case("cezanne", "texture", "texture_cezanne.jpg"),
    Case("brick", "texture", "sample:brick"),
    Case("cells", "texture", "sample:cells"),
    Case("mosaic", "texture", "sample:mosaic"),
    Case("gravel", "texture", "sample:gravel"),
]
ALL_CASES = PAIRS + TEXTURES
QUICK_CASES = ["astronaut-mosaic", "amber-wave", "brick", "U145220"]
# --quick: smaller budgets for the peers too (a smoke run, not a measurement).
QUICK_PEERS = {"gatys": {"evals": 50}, "recipe": {"initial_iters": 50, "iters": 25}}


@dataclass
class System:
    label: str
    kind: str  # "texstyle", "gatys", "recipe"
    options: dict

    def key(self) -> str:
        if self.kind == "texstyle":
            payload = {"options": self.options, "source": texstyle_fingerprint()}
        else:
            payload = {"options": self.options, "config": peer_config(self.kind)}
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def peer_config(kind: str) -> dict:
    """Everything that decides a peer's output (a change invalidates its cache)."""
    return {"version": 1, "kind": kind, **peers.config(kind)}


_FINGERPRINT: str | None = None


def texstyle_fingerprint() -> str:
    """Hash of the installed texstyle package's source: a code change invalidates its results."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import texstyle

        h = hashlib.sha256()
        root = Path(texstyle.__file__).parent
        for p in sorted(root.rglob("*.py")):
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
        _FINGERPRINT = h.hexdigest()[:16]
    return _FINGERPRINT


# -- inputs --------------------------------------------------------------------------------------

def load(source: str, images: Path) -> torch.Tensor:
    from texstyle.api import read_input

    if source.startswith("sample:"):
        return read_input(source, "input")
    return read_input(str(images / source), "input")


def output_hw(case: Case, size: int, images: Path) -> tuple[int, int]:
    from texstyle.image import fit_long_side

    ref = load(case.photo or case.style, images)
    return fit_long_side(*ref.shape[-2:], size)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).double().numpy()


# -- running a system ----------------------------------------------------------------------------

def run_system(system: System, case: Case, size: int, seed: int, images: Path
               ) -> tuple[torch.Tensor, float, float]:
    """The image, wall seconds and CPU seconds of this process (robust to other load)."""
    cpu = time.process_time()
    image, seconds = _run_system(system, case, size, seed, images)
    return image, seconds, time.process_time() - cpu


def _run_system(system: System, case: Case, size: int, seed: int, images: Path
                ) -> tuple[torch.Tensor, float]:
    style = load(case.style, images)
    photo = load(case.photo, images) if case.photo else None
    if system.kind == "texstyle":
        from texstyle.api import run_stylize, run_texture

        opts = {"size": size, "seed": seed, "device": "cpu", **system.options}
        start = time.perf_counter()
        if photo is not None:
            result = run_stylize(photo, style, **opts)
        else:
            result = run_texture(style, **opts)
        return result.image, time.perf_counter() - start
    hw = output_hw(case, size, images)
    start = time.perf_counter()
    image = peers.SYSTEMS[system.kind](style, photo, hw, seed, **system.options)
    return image, time.perf_counter() - start


def cache_paths(system: System, case: Case, size: int, seed: int, cache: Path
                ) -> tuple[Path, Path]:
    folder = cache / system.kind / system.key() / str(size)
    return folder / f"{case.name}_s{seed}.png", folder / f"{case.name}_s{seed}.json"


def cached_run(system: System, case: Case, size: int, seed: int, images: Path, cache: Path,
               use_cache: bool) -> tuple[np.ndarray, float, float | None, Path]:
    from PIL import Image

    from texstyle.image import to_pil

    png, meta = cache_paths(system, case, size, seed, cache)
    folder = png.parent
    if use_cache and png.is_file() and meta.is_file():
        record = json.loads(meta.read_text())
        seconds, cpu = record["seconds"], record.get("cpu_seconds")
    else:
        image, seconds, cpu = run_system(system, case, size, seed, images)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = png.with_suffix(".tmp.png")
        to_pil(image).save(tmp)
        os.replace(tmp, png)
        meta.write_text(json.dumps({
            "system": system.kind, "label": system.label, "options": system.options,
            "case": case.name, "size": size, "seed": seed, "seconds": seconds, "cpu_seconds": cpu,
            "threads": torch.get_num_threads(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                      time.gmtime()),
            **({"texstyle_source": texstyle_fingerprint()} if system.kind == "texstyle" else {}),
        }, indent=1))
    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.float64) / 255.0
    return img, float(seconds), cpu, png


# -- tables --------------------------------------------------------------------------------------

def _fmt(v: float | None) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    a = abs(v)
    return f"{v:.3f}" if a < 10 else f"{v:.1f}" if a < 1000 else f"{v:.0f}"


def _arrow(m: str) -> str:
    return "↑" if qm.HIGHER_IS_BETTER[m] else "↓"


def summary_table(rows: list[dict], labels: list[str], kind: str) -> str:
    measures = [m for m in qm.MEASURES
                if any(m in r["measures"] for r in rows if r["kind"] == kind)]
    head = ("| system | " + " | ".join(f"{m} {_arrow(m)}" for m in measures)
            + " | s/case | CPU s/case |")
    lines = [head, "| --- |" + " ---: |" * (len(measures) + 2)]
    for label in labels:
        rs = [r for r in rows if r["label"] == label and r["kind"] == kind]
        if not rs:
            continue
        cells = []
        for m in measures:
            vals = [r["measures"][m] for r in rs if m in r["measures"]]
            cells.append(f"{_fmt(statistics.median(vals))} ({_fmt(statistics.fmean(vals))})")
        secs = [r["seconds"] for r in rs]
        cells.append(f"{_fmt(statistics.median(secs))} ({_fmt(statistics.fmean(secs))})")
        cpus = [r["cpu_seconds"] for r in rs if r.get("cpu_seconds") is not None]
        cells.append(f"{_fmt(statistics.median(cpus))} ({_fmt(statistics.fmean(cpus))})"
                     if cpus else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def case_table(rows: list[dict], kind: str) -> str:
    measures = [m for m in qm.MEASURES
                if any(m in r["measures"] for r in rows if r["kind"] == kind)]
    lines = ["| case | system | " + " | ".join(f"{m} {_arrow(m)}" for m in measures)
             + " | s | CPU s |", "| --- | --- |" + " ---: |" * (len(measures) + 2)]
    for r in rows:
        if r["kind"] != kind:
            continue
        cells = ([_fmt(r["measures"].get(m)) for m in measures]
                 + [_fmt(r["seconds"]), _fmt(r.get("cpu_seconds"))])
        lines.append(f"| {r['case']} | {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- contact sheets ------------------------------------------------------------------------------

def contact_sheet(cases: list[Case], labels: list[str], outputs: dict, images: Path, size: int,
                  path: Path, cell: int | None = None, quality: int | None = None) -> None:
    from PIL import Image, ImageDraw

    from texstyle.image import to_pil

    if not cases:
        return
    cell = cell or max(size, 96)
    pad, head, left = 4, 18, 130
    cols = ["photo", "painting / exemplar", *labels]
    has_photo = any(c.photo for c in cases)
    if not has_photo:
        cols = cols[1:]
    sheet = Image.new("RGB", (left + len(cols) * (cell + pad), head + len(cases) * (cell + pad)),
                      "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(cols):
        draw.text((left + j * (cell + pad) + 2, 3), name[:24], fill="black")
    for i, case in enumerate(cases):
        y = head + i * (cell + pad)
        draw.text((4, y + cell // 2 - 6), case.name[:20], fill="black")
        photo = to_pil(load(case.photo, images)) if case.photo else None
        tiles = ([photo] if has_photo else []) + [to_pil(load(case.style, images))]
        tiles += [outputs.get((label, case.name)) for label in labels]
        for j, tile in enumerate(tiles):
            if tile is None:
                continue
            if isinstance(tile, Path):
                tile = Image.open(tile).convert("RGB")
            tile = tile.copy()
            tile.thumbnail((cell, cell), Image.LANCZOS) if max(tile.size) > cell else None
            if max(tile.size) < cell:
                s = cell / max(tile.size)
                tile = tile.resize((max(1, round(tile.width * s)), max(1, round(tile.height * s))),
                                   Image.NEAREST if s >= 2 else Image.LANCZOS)
            x = left + j * (cell + pad)
            sheet.paste(tile, (x + (cell - tile.width) // 2, y + (cell - tile.height) // 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    if quality is not None:
        sheet.save(path, quality=quality, optimize=True)
    else:
        sheet.save(path)


# -- command line --------------------------------------------------------------------------------

class _Variant(argparse.Action):
    """--label NAME starts a texstyle variant; --texstyle-opt key=value adds to the last one."""

    def __call__(self, parser, namespace, value, option_string=None):
        variants = getattr(namespace, "variants", None) or []
        if option_string == "--label":
            variants.append({"label": value, "options": {}})
        else:
            key, sep, text = value.partition("=")
            if not sep:
                parser.error(f"--texstyle-opt wants key=value, got {value!r}")
            try:
                val = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                val = text  # a bare string such as optimizer=adam
            if not variants:
                variants.append({"label": None, "options": {}})
            variants[-1]["options"][key.strip().replace("-", "_")] = val
        namespace.variants = variants


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[128])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cases", nargs="+", help="case names (default: all); 'pairs' or 'textures' "
                   f"for either set; names: {', '.join(c.name for c in ALL_CASES)}")
    p.add_argument("--systems", nargs="+", default=["gatys", "recipe", "texstyle"],
                   choices=["gatys", "recipe", "texstyle"])
    p.add_argument("--label", action=_Variant, dest="variants", help="name a texstyle variant")
    p.add_argument("--texstyle-opt", action=_Variant, dest="variants", metavar="KEY=VALUE",
                   help="a texstyle settings field for the current variant (a Python literal)")
    p.add_argument("--quick", action="store_true", help="2 pairs + 2 textures at 64 px, small "
                   "peer budgets: a smoke run")
    p.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--no-cache", action="store_true", help="recompute (and overwrite) results")
    p.add_argument("--out", type=Path, default=REPO / "out" / "quality")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--run-only", action="store_true", help="fill the cache; no measures/tables")
    p.add_argument("--cached-only", action="store_true",
                   help="run nothing: tables from the cached results, over the cases that every "
                   "system has finished (while background runs fill the cache)")
    p.add_argument("--builtin-sheet", type=Path, default=None,
                   help="also write a JPEG contact sheet of the built-in-only cases here")
    p.add_argument("--no-style-measure", action="store_true",
                   help="skip the Portilla-Simoncelli style distance (no plenoptic needed)")
    args = p.parse_args(argv)
    args.variants = getattr(args, "variants", None) or []
    return args


def select_cases(names: list[str] | None, quick: bool) -> list[Case]:
    if not names:
        names = QUICK_CASES if quick else [c.name for c in ALL_CASES]
    by_name = {c.name: c for c in ALL_CASES}
    out: list[Case] = []
    for n in names:
        if n == "pairs":
            out += PAIRS
        elif n == "textures":
            out += TEXTURES
        elif n in by_name:
            out.append(by_name[n])
        else:
            raise SystemExit(f"unknown case {n!r}; choose from {', '.join(by_name)}")
    return list(dict.fromkeys(out))


def make_systems(args: argparse.Namespace) -> list[System]:
    systems: list[System] = []
    for kind in args.systems:
        if kind == "texstyle":
            variants = args.variants or [{"label": None, "options": {}}]
            for v in variants:
                label = v["label"] or ("texstyle" if not v["options"] else "texstyle " + " ".join(
                    f"{k}={val}" for k, val in v["options"].items()))
                systems.append(System(label, "texstyle", dict(v["options"])))
        else:
            opts = dict(QUICK_PEERS[kind]) if args.quick else {}
            systems.append(System(kind + (" (quick)" if args.quick else ""), kind, opts))
    return systems


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [64] if args.quick else args.sizes
    cases = select_cases(args.cases, args.quick)
    systems = make_systems(args)
    labels = [s.label for s in systems]
    rows: list[dict] = []
    outputs: dict[int, dict] = {size: {} for size in sizes}
    jobs = [(size, case, system) for size in sizes for case in cases for system in systems]
    if args.cached_only:
        done = {(size, case.name) for size, case, _ in jobs
                if all(all(p.is_file() for p in cache_paths(s, case, size, args.seed, args.cache))
                       for s in systems)}
        missing = sorted({f"{size}px {case.name}" for size, case, _ in jobs
                          if (size, case.name) not in done})
        if missing:
            print(f"--cached-only: left out (not finished by every system): {', '.join(missing)}")
        jobs = [j for j in jobs if (j[0], j[1].name) in done]
        cases = [c for c in cases if any((size, c.name) in done for size in sizes)]
    bar = tqdm(jobs, desc="quality", unit="run")
    for size, case, system in bar:
        bar.set_postfix_str(f"{size}px {case.name} {system.label}")
        img, seconds, cpu, png = cached_run(system, case, size, args.seed, args.images, args.cache,
                                       not args.no_cache)
        outputs[size][(system.label, case.name)] = png
        if args.run_only:
            continue
        style = to_numpy(load(case.style, args.images))
        photo = to_numpy(load(case.photo, args.images)) if case.photo else None
        measures = qm.measure_all(img, style, photo, with_style=not args.no_style_measure)
        rows.append({"size": size, "case": case.name, "kind": case.kind, "label": system.label,
                     "system": system.kind, "options": system.options, "seconds": seconds,
                     "cpu_seconds": cpu,
                     "measures": measures, "image": str(png)})
    if args.run_only:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    report = []
    for size in sizes:
        rs = [r for r in rows if r["size"] == size]
        md = [f"# Quality benchmark at {size} px (seed {args.seed})", "",
              f"texstyle source {texstyle_fingerprint()}; cells: median (mean) over cases; "
              "↑ higher is better, ↓ lower is better (benchmarks/quality_measures.py); "
              "s: wall seconds, CPU s: this process's CPU seconds (robust to other load on "
              "the machine; with --threads 1 the single-core time).", ""]
        for kind, title in (("stylize", "Stylisation"), ("texture", "Textures")):
            if any(r["kind"] == kind for r in rs):
                md += [f"## {title}", "", summary_table(rs, labels, kind), ""]
        for kind, title in (("stylize", "Stylisation"), ("texture", "Textures")):
            if any(r["kind"] == kind for r in rs):
                md += [f"## {title}, per case", "", case_table(rs, kind), ""]
        text = "\n".join(md)
        (args.out / f"quality_{size}.md").write_text(text)
        report.append(text)
        for kind in ("stylize", "texture"):
            kc = [c for c in cases if c.kind == kind]
            contact_sheet(kc, labels, outputs[size], args.images, size,
                          args.out / f"sheet_{size}_{kind}.png")
        if args.builtin_sheet is not None:
            bc = [c for c in cases if c.builtin]
            contact_sheet(bc, labels, outputs[size], args.images, size,
                          args.builtin_sheet.with_name(
                              f"{args.builtin_sheet.stem}_{size}{args.builtin_sheet.suffix}"),
                          quality=85)
    (args.out / "quality.json").write_text(json.dumps({
        "seed": args.seed, "sizes": sizes, "systems": [s.__dict__ for s in systems],
        "texstyle_source": texstyle_fingerprint(), "rows": rows}, indent=1, default=str))
    print("\n\n".join(report))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
