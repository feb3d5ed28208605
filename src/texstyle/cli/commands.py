"""The command line: parse, check paths before any work, render progress, write the record.

Flags and their defaults come from ``config.TextureSettings`` / ``StylizeSettings``; this module
adds only what belongs to files and terminals (output paths, --overwrite, --save-every, --quiet).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import Field, fields, replace
from pathlib import Path
from typing import Any

from PIL import Image

from .. import __version__
from ..api import RunInterrupted, RunResult, run_stylize, run_texture
from ..checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from ..config import (
    GAN_GROUP,
    FileOptions,
    SpatialOptions,
    StylizeSettings,
    TextureSettings,
    check_positive_int,
    flag_name,
    is_gan,
    option_help,
    parse_auto,
)
from ..errors import TexstyleError
from ..image import output_format, save_image, write_text
from ..plan import calibrate, plan_run
from ..records import record_path, write_result
from ..regions import spatial_sources
from ..report.build import default_plan, plan_from_folder, plan_inputs, planned_files
from ..report.figures import contact_sheet, gan_curves, grid, loss_plot
from ..samples import SAMPLE_NAMES, is_sample
from ..stats import STATISTICS
from ..studies.compare import (
    DEFAULT_PAIRS,
    DEFAULT_TEXTURES,
    Comparison,
    ComparisonInterrupted,
    check_losses,
    level_starts,
    parse_pair,
    run_compare,
)
from .progress import _Renderer, _Snapshots, snapshot_path

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _pair(text: str) -> tuple[str, str]:
    try:
        return parse_pair(text)
    except TexstyleError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _add_settings_flags(p: argparse.ArgumentParser, cls: type[TextureSettings],
                        command: str) -> argparse._ArgumentGroup:
    """One flag per settings field, built from the field's metadata (config.option): the
    default, help, choices and flag name are written once, in config.py."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f, default in _option_fields(cls()):
        meta = f.metadata
        if not meta or command not in meta["commands"]:
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "default": default,
                                  "help": option_help(f, default)}
        if isinstance(default, bool):
            kwargs["action"] = "store_true"
        elif meta["parse"] == "repeat":  # a repeatable flag: a tuple of its values
            kwargs |= {"action": "append", "default": None}
            if meta["metavar"] is not None:
                kwargs["metavar"] = meta["metavar"]
        else:
            parse = meta["parse"] or type(default)
            kwargs["type"] = {"names": _names, "floats": _floats}.get(parse, parse)
            if meta["choices"] is not None:
                kwargs["choices"] = meta["choices"]
            if meta["metavar"] is not None:
                kwargs["metavar"] = meta["metavar"]
        target = p
        if meta["group"] is not None:
            target = groups.setdefault(meta["group"], p.add_argument_group(meta["group"]))
        target.add_argument(flag_name(f), **kwargs)
    return groups.get(GAN_GROUP) or p.add_argument_group(GAN_GROUP)


def _option_fields(settings: Any) -> list[tuple[Field[Any], Any]]:
    """Every option field of ``settings`` with its value, a nested dataclass's (``gan``) in its
    place: the GAN options are flags of their own, named after their own fields."""
    found: list[tuple[Field[Any], Any]] = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        found += _option_fields(value) if "nested" in f.metadata else [(f, value)]
    return found


def _add_run_options(p: argparse.ArgumentParser, cls: type[TextureSettings], command: str
                     ) -> None:
    p.add_argument("-o", "--output", required=True, type=Path, help="output image (.png, .jpg, …)")
    gan = _add_settings_flags(p, cls, command)
    gan.add_argument("--plot", type=Path, metavar="PATH",
                     help="save the discriminator training curves (accuracy, D and generator loss "
                          "per layer) as an image")
    p.add_argument("--save-every", type=int, metavar="N",
                   help="also save the current image every N iterations (OUT.iterNNNNN.png)")
    f = FileOptions()
    p.add_argument("--checkpoint", type=Path, metavar="PATH",
                   help="keep a checkpoint of the run in PATH (rewritten atomically) so that "
                        "--resume can continue it after a crash or Ctrl-C")
    p.add_argument("--checkpoint-every", type=int, default=f.checkpoint_every, metavar="N",
                   help=f"iterations between checkpoints (default {f.checkpoint_every}; also at "
                        "the end of every pyramid level)")
    p.add_argument("--resume", type=Path, metavar="PATH",
                   help="continue the run saved in checkpoint PATH (same settings and inputs "
                        "required; keeps checkpointing to PATH unless --checkpoint says otherwise)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (levels, evaluations, estimated memory and time on this "
                        "machine) and exit without computing or writing anything")


def _add_job_flags(p: argparse.ArgumentParser, overwrite_help: str) -> None:
    """--device, --overwrite, --quiet: the same on every command that writes a set of files."""
    d = TextureSettings()
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device,
                   help=f"(default {d.device}: CUDA when present)")
    p.add_argument("--overwrite", action="store_true", help=overwrite_help)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="texstyle", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"texstyle {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    samples = f"(or sample:NAME, NAME one of {', '.join(SAMPLE_NAMES)})"

    tex = sub.add_parser("texture", help="grow a texture from an exemplar",
                         description="Grow a texture whose VGG-19 Gram matrices match the exemplar's.")
    tex.add_argument("style", nargs="*", help=f"exemplar image(s) {samples}; several are mixed")
    tex.add_argument("--style", dest="extra_styles", action="append", default=[],
                     help="another exemplar to mix in (repeatable)")
    _add_run_options(tex, TextureSettings, "texture")

    sty = sub.add_parser("stylize", help="paint a photo in the style of another image",
                         description="Paint CONTENT in the style of --style (Gatys et al., 2016).")
    sty.add_argument("content", help=f"content image {samples}")
    sty.add_argument("--style", action="append",
                     help="style image (a painting, say); repeat to mix several (not needed with "
                          "--region or --style-coarse/--style-fine)")
    _add_run_options(sty, StylizeSettings, "stylize")

    til = sub.add_parser("tile", help="lay an image out in a grid, to check a texture for seams",
                         description="Write IMAGE repeated COLS across and ROWS down, and print "
                                     "how much its wrap-around edges stand out.")
    til.add_argument("image", help=f"image to repeat {samples}")
    til.add_argument("--repeat", default="2x2", metavar="COLSxROWS",
                     help="copies across and down (default 2x2)")
    til.add_argument("-o", "--output", required=True, type=Path, help="preview image (.png, …)")
    til.add_argument("--overwrite", action="store_true", help="replace an existing output file")

    demo = sub.add_parser("demo", help="make a texture and a stylised photo from built-in samples",
                          description="Make a texture and a stylised photo from built-in samples, "
                                      "with a contact sheet.")
    demo.add_argument("--out-dir", type=Path, default=Path("texstyle-demo"),
                      help="folder for the results (default ./texstyle-demo)")
    demo.add_argument("--size", type=int, default=256, help="long side in px (default 256)")
    demo.add_argument("--iters", type=int, default=50, help="iterations at the coarsest level (default 50)")
    _add_job_flags(demo, "replace earlier demo results")

    cmp = sub.add_parser(
        "compare", help="compare the style statistics on textures and stylisations, as a figure",
        description="Run every exemplar and content/style pair under every style statistic with "
                    "the same seed, size and iterations; write two labelled grids (textures.png, "
                    "stylized.png), the loss curves (losses.png) and the record (compare.json).")
    d = TextureSettings()
    default_pairs = " ".join(f"{c}:{s}" for c, s in DEFAULT_PAIRS)
    cmp.add_argument("--textures", nargs="+", metavar="EXEMPLAR",
                     help=f"texture exemplars {samples} (default {' '.join(DEFAULT_TEXTURES)})")
    cmp.add_argument("--pairs", nargs="+", type=_pair, metavar="CONTENT:STYLE",
                     help=f"content:style pairs (default {default_pairs}); with only --textures or "
                          "only --pairs, only that grid is made")
    cmp.add_argument("--losses", type=_names, default=tuple(STATISTICS), metavar="L1,L2,…",
                     help=f"statistics to compare, one column each (default {','.join(STATISTICS)})")
    cmp.add_argument("--size", type=int, default=128, help="long side of every output in px (default 128)")
    cmp.add_argument("--iters", type=int, default=100,
                     help="iterations at the coarsest pyramid level, in every cell (default 100)")
    cmp.add_argument("--tolerance", type=float, default=1e-3,
                     help="stop a level once the loss improves by less than this fraction over 10 "
                          "iterations, so every cell runs to the same criterion and --iters is "
                          "the cap; each cell's label says which ended it (default 1e-3; 0: "
                          "the fixed budget)")
    cmp.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    cmp.add_argument("--weights", default=d.weights, metavar="normalized|torchvision|PATH",
                     help=f"VGG-19 weights (default {d.weights})")
    cmp.add_argument("--regions", metavar="auto:K",
                     help="also run the pairs with K automatic regions (regions.png): each "
                          "statistic restricted to paired regions (docs/spatial.md)")
    cmp.add_argument("--out-dir", type=Path, default=Path("texstyle-compare"),
                     help="folder for the results (default ./texstyle-compare)")
    _add_job_flags(cmp, "replace earlier results")

    rep = sub.add_parser(
        "report", help="regenerate every deliverable into one folder with an index.html",
        description="Favourite texture and stylisation, colour control, the statistics "
                    "comparison sheets, style mixing, the adversarial experiment and loss "
                    "curves, with captions, settings, timings and the theory "
                    "note's formulas in OUTDIR/index.html (full record in OUTDIR/report.json).")
    rep.add_argument("out_dir", type=Path, metavar="OUTDIR", help="folder for the report")
    rep.add_argument("--images", type=Path, metavar="DIR",
                     help="take inputs from DIR instead of the built-in samples: files named "
                          "photo* or content* are content photos, the others style images "
                          "(at least one photo and two styles)")
    rep.add_argument("--quick", action="store_true",
                     help="a tiny version (48 px, a few iterations) that checks every step fast")
    rep.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    rep.add_argument("--study-cache", type=Path, metavar="DIR",
                     help="read the adversarial experiment's cells from the seeded study's cache "
                          "(benchmarks/adversarial_study.py) and add the missing ones to it: the "
                          "experiment is about 32 of the report's 62 minutes on 2 CPU cores")
    _add_job_flags(rep, "replace an earlier report")

    std = sub.add_parser(
        "studio", help="a web page on which you set up runs and watch the picture being made",
        description="Serve the studio on this machine and open it in the browser: choose "
                    "pictures and options, watch the run, stop it, download the result. Needs "
                    "the web extra: pip install 'texstyle[studio]'.")
    std.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only; any other "
                          "is reachable without authentication)")
    std.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    std.add_argument("--no-browser", action="store_true", help="do not open the browser")
    std.add_argument("--work-dir", type=Path, metavar="DIR",
                     help="folder for uploads and results (default: a temporary folder, removed "
                          "on exit)")
    std.add_argument("--max-upload-mb", type=float, default=20.0, metavar="MB",
                     help="refuse uploads larger than this (default 20)")
    max_pixels = next(f for f in fields(TextureSettings) if f.name == "max_pixels")
    std.add_argument("--max-pixels", type=int, metavar="N", help=option_help(max_pixels, None))
    from .batch import add_batch_parser  # both build on this module's flag builder
    from .video import add_video_parser

    add_batch_parser(sub)
    add_video_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="texstyle: %(message)s")
    previous = _terminate_like_ctrl_c()
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "report":
            return _report(args)
        if args.command == "tile":
            return _tile(args)
        if args.command == "studio":
            return _studio(args)
        if args.command == "batch":
            from .batch import run_batch

            return run_batch(args)
        if args.command == "video":
            from .video import run_video

            return run_video(args)
        return _run_command(args)
    except TexstyleError as exc:
        print(f"texstyle: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("texstyle: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_like_ctrl_c():
    """SIGTERM (a scheduler's kill, a closed session) takes the Ctrl-C path: best image saved."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread

    def handler(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


def _settings_from_args(args: argparse.Namespace, cls: type[TextureSettings]) -> TextureSettings:
    values = {name: getattr(args, name) for name in cls.field_names() if hasattr(args, name)}
    values = {name: tuple(v) if isinstance(v, list) else v for name, v in values.items()
              if not (v is None and name in _REPEATED)}
    if args.width is not None or args.height is not None:
        values["size"] = None
    return cls.from_options(**values)


_REPEATED = {f.name for f in fields(SpatialOptions) if f.metadata.get("parse") == "repeat"}


def _run_command(args: argparse.Namespace) -> int:
    is_stylize = args.command == "stylize"
    settings = _settings_from_args(args, StylizeSettings if is_stylize else TextureSettings)
    styles = (args.style or []) if is_stylize else [*args.style, *args.extra_styles]
    if not styles and not settings.spatial.active:
        raise TexstyleError("give a style image with --style (or --region, --style-coarse)"
                            if is_stylize else "give an exemplar image (or sample:NAME)")
    if args.style_blend is not None and len(args.style_blend) != len(styles):
        raise TexstyleError(f"--style-blend has {len(args.style_blend)} weights for "
                            f"{len(styles)} style images")
    if args.dry_run:
        plan = plan_run(styles, args.content if is_stylize else None, settings)
        print(plan.describe(None if plan.feedforward else calibrate(plan)))
        return 0
    inputs = [*styles, args.init, *spatial_sources(settings.spatial)] + (
        [args.content] if is_stylize else [])
    files = FileOptions(save_every=args.save_every, checkpoint_every=args.checkpoint_every)
    if args.plot is not None and not is_gan(settings.loss):
        raise TexstyleError(f"--plot draws discriminator curves; it needs a gan loss, not "
                            f"--loss {settings.loss}")
    outputs = planned_outputs(args.output, settings, args.save_every)
    if args.plot is not None:
        output_format(args.plot)
        if args.plot.resolve() in {path.resolve() for path in outputs}:
            raise TexstyleError(f"--plot {args.plot} is also the output image or its record")
        outputs.append(args.plot)
    checkpoint_path = args.checkpoint or args.resume
    if checkpoint_path is not None and checkpoint_path != args.resume:
        outputs.append(checkpoint_path)  # a new checkpoint must not replace an existing file
    check_outputs(outputs, inputs, overwrite=args.overwrite)
    resume = load_checkpoint(args.resume) if args.resume is not None else None

    def write_checkpoint(c: Checkpoint) -> None:
        save_checkpoint(c, checkpoint_path)

    render = _Renderer(quiet=args.quiet, snapshots=_Snapshots(args.output, args.save_every,
                                                             args.overwrite))
    run_files = {"checkpoint": write_checkpoint if checkpoint_path is not None else None,
                 "checkpoint_every": files.checkpoint_every, "resume": resume}
    try:
        if is_stylize:
            result = run_stylize(args.content, styles, settings, callback=render, **run_files)
        else:
            result = run_texture(styles, settings, callback=render, **run_files)
    except RunInterrupted as exc:
        render.close()
        return _save_partial(exc.partial, args.output, checkpoint_path)
    finally:
        render.close()
    result.settings["inputs"] = {"styles": [str(s) for s in styles],
                                 "content": str(args.content) if is_stylize else None}
    write_result(result, args.output, overwrite=args.overwrite)
    if args.plot is not None:
        save_image(gan_curves(result.history, settings.style_layers), args.plot,
                   overwrite=args.overwrite)
    w, h = result.settings["output_size"]
    print(f"texstyle: wrote {args.output} ({w}x{h}) in {result.elapsed:.1f} s")
    return 0


def partial_path(output: Path) -> Path:
    """Where an interrupted run's best image goes: OUT.partial.png, or OUT.partial-2.png, … if
    that exists.  Never the output itself: that name is for finished results only."""
    path, n = output.with_name(f"{output.stem}.partial{output.suffix}"), 1
    while path.exists() or record_path(path).exists():
        n += 1
        path = output.with_name(f"{output.stem}.partial-{n}{output.suffix}")
    return path


def _save_partial(partial: RunResult, output: Path, checkpoint: Path | None) -> int:
    """Ctrl-C / SIGTERM: save the best image so far (atomically, under a new name), say where."""
    path = partial_path(output)
    write_result(partial, path, overwrite=False)
    h, w = partial.image.shape[-2:]
    where = partial.settings.get("interrupted_at", {})
    levels = len(partial.settings.get("levels", [])) or 1
    total = partial.settings.get("iters", 0) * levels
    resume = (f"; continue with --resume {checkpoint}"
              if checkpoint is not None and checkpoint.exists() else "")
    print(f"texstyle: interrupted at iteration {where.get('iteration', '?')}/{total} (level "
          f"{where.get('level', '?')}/{levels}, {w}x{h} px); saved the best image so far to "
          f"{path}{resume}", file=sys.stderr)
    return EXIT_INTERRUPTED


def planned_outputs(output: Path, settings: TextureSettings, save_every: int | None) -> list[Path]:
    """Every file a run will write, known before it starts so clashes are caught up front."""
    paths = [output, record_path(output)]
    if save_every:
        # An upper bound on the iterations: one level per halving of the long side.
        total = settings.iters * 12
        paths += [snapshot_path(output, i) for i in range(save_every, total + 1, save_every)]
    return paths


def check_outputs(outputs: list[Path], inputs: Sequence[object], *, overwrite: bool) -> None:
    """Refuse to start a run that would write over an input, or over anything without --overwrite."""
    output_format(outputs[0])
    input_paths = {Path(str(p)).resolve() for p in inputs
                   if p is not None and isinstance(p, str | Path) and not is_sample(p)
                   and Path(str(p)).exists()}
    for path in outputs:
        if path.resolve() in input_paths:
            raise TexstyleError(f"refusing to write {path}: it is one of the inputs")
        if path.is_dir():
            raise TexstyleError(f"output {path} is a folder; give a file name such as out.png")
        if path.exists() and not overwrite:
            raise TexstyleError(f"output exists: {path} (pass --overwrite to replace it)")


def _tile(args: argparse.Namespace) -> int:
    """A tiled preview: the quickest way to see whether a texture is seamless."""
    from ..api import read_input
    from ..seamless import parse_repeat, seam_ratio, tile_image

    cols, rows = parse_repeat(args.repeat)
    check_outputs([args.output], [args.image], overwrite=args.overwrite)
    image = read_input(args.image, "image")
    save_image(tile_image(image, cols, rows), args.output, overwrite=args.overwrite)
    h, w = image.shape[-2:]
    print(f"texstyle: wrote {args.output} ({cols * w}x{rows * h}); wrap-around edge vs interior "
          f"neighbours: columns {seam_ratio(image, -1):.2f}x, rows {seam_ratio(image, -2):.2f}x")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The README's first command: a texture and a stylisation from built-in samples."""
    check_positive_int("--size", args.size)
    check_positive_int("--iters", args.iters)
    out: Path = args.out_dir
    jobs: list[tuple[str, Callable[[_Renderer], RunResult]]] = [
        ("texture", lambda cb: run_texture("sample:cells", size=args.size, iters=args.iters,
                                           device=args.device, callback=cb)),
        ("stylized", lambda cb: run_stylize("sample:cat", "sample:mosaic", size=args.size,
                                            iters=args.iters, device=args.device, callback=cb)),
    ]
    targets = [out / "texture.png", out / "stylized.png"]
    check_outputs([*targets, *(record_path(t) for t in targets), out / "contact_sheet.png"], [],
                  overwrite=args.overwrite)
    start = time.perf_counter()
    results = {}
    for (name, job), target in zip(jobs, targets):
        render = _Renderer(quiet=args.quiet, label=name)
        try:
            results[name] = job(render)
        except RunInterrupted as exc:
            render.close()
            return _save_partial(exc.partial, target, None)  # earlier jobs are already written
        finally:
            render.close()
        write_result(results[name], target, overwrite=args.overwrite)

    from ..api import read_input
    from ..image import to_pil

    def sample(name: str) -> Image.Image:
        return to_pil(read_input(f"sample:{name}", name))

    sheet = contact_sheet(
        [
            [("exemplar (sample:cells)", sample("cells")), ("texture", results["texture"].to_pil())],
            [("content (sample:cat)", sample("cat")), ("style (sample:mosaic)", sample("mosaic")),
             ("stylized", results["stylized"].to_pil())],
        ],
        title=(f"texstyle demo: texture synthesis ({results['texture'].settings['loss']}) and "
               f"style transfer ({results['stylized'].settings['loss']}), {args.size} px"),
    )
    save_image(sheet, out / "contact_sheet.png", overwrite=args.overwrite)
    print(f"texstyle: wrote {out}/texture.png, {out}/stylized.png and {out}/contact_sheet.png "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


def _studio(args: argparse.Namespace) -> int:
    """The web page: serve until Ctrl-C, which is how it is meant to end (exit 0)."""
    if not 0 <= args.port <= 65535:
        raise TexstyleError(f"--port must be between 0 and 65535, got {args.port}")
    if args.max_pixels is not None:
        check_positive_int("--max-pixels", args.max_pixels)
    if not 0 < args.max_upload_mb < 2**30:
        raise TexstyleError(f"--max-upload-mb must be a positive number, got {args.max_upload_mb}")
    if args.work_dir is not None and args.work_dir.exists() and not args.work_dir.is_dir():
        raise TexstyleError(f"--work-dir {args.work_dir} is a file, not a folder")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from ..studio.server import serve
    except ImportError as exc:
        raise TexstyleError(f"texstyle studio needs the web extra ({exc.name} is missing); "
                            "install it with: pip install 'texstyle[studio]'") from None
    try:
        serve(host=args.host, port=args.port, open_browser=not args.no_browser,
              work_dir=args.work_dir, max_upload_bytes=int(args.max_upload_mb * 2**20),
              max_pixels=args.max_pixels, say=lambda line: print(line, flush=True),
              warn=lambda line: print(line, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        pass
    print("texstyle studio: stopped", flush=True)
    return 0


def _compare(args: argparse.Namespace) -> int:
    """The statistics sheet: both grids by default, only the one asked for otherwise."""
    if args.textures is None and args.pairs is None:
        textures, pairs = list(DEFAULT_TEXTURES), list(DEFAULT_PAIRS)
    else:
        textures, pairs = args.textures or [], args.pairs or []
    losses = check_losses(args.losses)
    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        raise TexstyleError(f"--out-dir {out} is a file, not a folder")
    outputs = {"textures": out / "textures.png", "stylized": out / "stylized.png",
               "regions": out / "regions.png"}
    if args.regions is not None:
        parse_auto(args.regions)
    planned = ([outputs["textures"]] if textures else []) + ([outputs["stylized"]] if pairs else [])
    planned += [outputs["regions"]] if pairs and args.regions is not None else []
    planned += [out / "losses.png", out / "compare.json"]
    check_outputs(planned, [*textures, *(s for pair in pairs for s in pair)], overwrite=args.overwrite)

    render = _Renderer(quiet=args.quiet)
    try:
        result = run_compare(textures, pairs, losses=losses, size=args.size, iters=args.iters,
                             tolerance=args.tolerance, seed=args.seed, weights=args.weights,
                             device=args.device, regions=args.regions, callback=render)
    except ComparisonInterrupted as exc:
        render.close()
        return _save_partial_comparison(exc.partial, outputs, out)
    finally:
        render.close()
    _write_comparison(result, outputs, out, overwrite=args.overwrite)
    names = ", ".join(str(p) for p in planned)
    cells = sum(len(g.rows) for g in result.grids) * len(result.losses)
    print(f"texstyle: wrote {names} ({cells} cell{'s' if cells != 1 else ''}) in "
          f"{result.elapsed:.1f} s")
    return 0


def _save_partial_comparison(partial: Comparison, outputs: dict[str, Path], out: Path) -> int:
    """Ctrl-C / SIGTERM during ``compare``: the sheet so far under .partial names, never over
    the finished sheet's names (or anything already there)."""
    names = {key: partial_path(path) for key, path in outputs.items()}
    plot, record = partial_path(out / "losses.png"), partial_path(out / "compare.json")
    _write_comparison(partial, names, out, overwrite=False, plot=plot, record=record)
    done = sum(len(row.results) for g in partial.grids for row in g.rows)
    cells = sum(len(g.rows) for g in partial.grids) * len(partial.losses)
    grid_name, row, loss = partial.interrupted or ("?", "?", "?")
    written = ", ".join(str(names[g.name]) for g in partial.grids)
    print(f"texstyle: interrupted in {grid_name}: {row} / {loss}; saved {done} of {cells} cells "
          f"(the interrupted one's best image so far) to {written}, {plot} and {record}",
          file=sys.stderr)
    return EXIT_INTERRUPTED


def _write_comparison(result: Comparison, outputs: dict[str, Path], out: Path, *,
                      overwrite: bool, plot: Path | None = None, record: Path | None = None
                      ) -> None:
    size, iters, seed = (result.settings[k] for k in ("size", "iters", "seed"))
    cell = max(size, 128)  # labels need room; smaller outputs are shown enlarged
    for g in result.grids:
        title = (f"{g.name}: {size} px, {iters} iteration{'s' if iters != 1 else ''} at the "
                 f"coarsest level, seed {seed}{' (interrupted)' if result.interrupted else ''}")
        save_image(grid(*result.table(g), cell=cell, title=title), outputs[g.name],
                   overwrite=overwrite)
    dashed = [row.label for g in result.grids if g.name != "textures" for row in g.rows]
    kinds = (" and ".join(f"{g.name} ({'solid' if g.name == 'textures' else 'dashed'})"
                          for g in result.grids) if len(result.grids) > 1 else result.grids[0].name)
    figure = loss_plot(result.curves(), dashed=dashed, title=f"style loss per iteration: {kinds}",
                       level_starts=level_starts(result))
    save_image(figure, plot or out / "losses.png", overwrite=overwrite)
    content = {"texstyle": __version__} | result.record()
    write_text(json.dumps(content, indent=1, default=str) + "\n", record or out / "compare.json",
               overwrite=overwrite)


def _report(args: argparse.Namespace) -> int:
    """Everything into one folder; every file name is checked before the first run starts."""
    from ..report.build import run_report
    from ..report.render import render_report

    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        raise TexstyleError(f"OUTDIR {out} is a file, not a folder")
    options = {"quick": args.quick, "seed": args.seed, "device": args.device}
    plan = plan_from_folder(args.images, **options) if args.images else default_plan(**options)
    if args.study_cache is not None:
        plan = replace(plan, adv_cache=str(args.study_cache))
    check_outputs([out / name for name in planned_files(plan)], plan_inputs(plan),
                  overwrite=args.overwrite)
    render = _Renderer(quiet=args.quiet)
    try:
        report = run_report(plan, callback=render)
    finally:
        render.close()
    for name, content in render_report(report).items():
        if isinstance(content, str):
            write_text(content, out / name, overwrite=args.overwrite)
        else:
            save_image(content, out / name, overwrite=args.overwrite)
    print(f"texstyle: wrote {out / 'index.html'} and {len(planned_files(plan)) - 1} other files "
          f"in {sum(report.wall_s.values()):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
