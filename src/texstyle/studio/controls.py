"""The studio's controls, read from the option declarations (``config.option``) so that the page
offers the command line's defaults, choices and help, and names each control's flag.

Only a few options are on the page (what an artist moves between two tries); everything else
keeps the command line's default.  A request from the page is turned into settings here, and
back into the equivalent ``texstyle ...`` command line.
"""

from __future__ import annotations

import shlex
from dataclasses import Field, dataclass, fields
from typing import Any

from ..config import StylizeSettings, TextureSettings, flag_name, option_help
from ..errors import TexstyleError

MODES = ("texture", "stylize")
SETTINGS: dict[str, type[TextureSettings]] = {"texture": TextureSettings,
                                               "stylize": StylizeSettings}
# The page's names for the options it offers, in the order it shows them.
LABELS = {
    "loss": "statistic",
    "size": "size (px)",
    "iters": "iterations",
    "style_weight": "style strength",
    "preserve_color": "colour preservation",
    "tile": "seamless",
    "seed": "seed",
}


@dataclass(frozen=True)
class Control:
    """One control of the page: what it sets, how the command line spells it, its defaults."""

    name: str  # the settings field
    label: str
    flag: str  # e.g. --style-weight
    help: dict[str, str]  # mode → the --help text, with that mode's default
    kind: str  # "int", "float", "bool" or "choice"
    choices: tuple[str, ...] | None
    defaults: dict[str, Any]  # mode → default; a mode without the option is absent

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "flag": self.flag, "help": self.help,
                "kind": self.kind, "choices": self.choices, "defaults": self.defaults}


def _field(cls: type[TextureSettings], name: str) -> Field[Any] | None:
    return next((f for f in fields(cls) if f.name == name), None)


def _kind(default: Any, choices: tuple[str, ...] | None) -> str:
    if choices is not None:
        return "choice"
    if isinstance(default, bool):
        return "bool"
    return "int" if isinstance(default, int) else "float"


def controls() -> list[Control]:
    """Every control of the page, with each mode's default taken from its settings class."""
    found = []
    for name, label in LABELS.items():
        defaults: dict[str, Any] = {}
        helps: dict[str, str] = {}
        declared: Field[Any] | None = None
        for mode, cls in SETTINGS.items():
            f = _field(cls, name)
            if f is not None and mode in f.metadata["commands"]:
                defaults[mode] = getattr(cls(), name)
                helps[mode] = option_help(f, defaults[mode])
                declared = declared or f
        assert declared is not None, f"{name} is no option of texture or stylize"
        first = next(iter(defaults.values()))
        found.append(Control(name, label, flag_name(declared), helps,
                             _kind(first, declared.metadata["choices"]),
                             declared.metadata["choices"], defaults))
    return found


def _coerce(control: Control, value: Any) -> Any:
    """A value from the page (JSON) as the settings field takes it; a one-line error otherwise."""
    what = f"{control.label} ({control.flag})"
    if control.kind == "bool":
        if not isinstance(value, bool):
            raise TexstyleError(f"{what} must be true or false, got {value!r}")
        return value
    if control.kind == "choice":
        return str(value)
    try:
        number = float(value) if control.kind == "float" else int(str(value))
    except ValueError:
        raise TexstyleError(f"{what} must be a number, got {value!r}") from None
    return number


def settings_for(mode: str, values: dict[str, Any]) -> TextureSettings:
    """The settings a page request asks for: its values on top of the mode's defaults, checked
    by the settings' own validation (the command line's messages)."""
    if mode not in MODES:
        raise TexstyleError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    by_name = {c.name: c for c in controls()}
    options = {}
    for name, value in values.items():
        control = by_name.get(name)
        if control is None:
            raise TexstyleError(f"unknown option {name!r}; the page offers "
                                f"{', '.join(by_name)}")
        if mode in control.defaults:
            options[name] = _coerce(control, value)
    return SETTINGS[mode].from_options(**options)


def command_line(mode: str, content: str | None, style: str, settings: TextureSettings,
                 output: str = "out.png") -> str:
    """The ``texstyle ...`` command that makes the same picture: the page's options that differ
    from the command line's defaults, as flags."""
    words = ["texstyle", mode]
    words += [content, "--style", style] if mode == "stylize" and content else [style]
    words += ["-o", output]
    default = type(settings)()
    for control in controls():
        if mode not in control.defaults:
            continue
        value = getattr(settings, control.name)
        if value == getattr(default, control.name):
            continue
        if control.kind == "bool":
            words.append(control.flag)
        else:
            words += [control.flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(words)
