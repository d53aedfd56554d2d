"""``fbs init``: write a commented starter config."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from ..errors import UserError


def starter_config() -> str:
    """The text of the starter ``fbs.toml`` shipped in ``fbs_core/templates``."""
    return (resources.files("fbs_core") / "templates" / "fbs.toml").read_text(encoding="utf-8")


@click.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="fbs.toml")
def command(path: Path) -> None:
    """Write a commented starter config to PATH (default: fbs.toml)."""
    if not path.parent.is_dir():
        raise UserError(f"{path.parent} is not a folder")
    try:
        with path.open("x", encoding="utf-8") as fp:
            fp.write(starter_config())
    except FileExistsError:
        raise UserError(f"{path} already exists; not overwriting it") from None
    click.echo(f"wrote {path}; add your channels, suppliers and payment, then run 'fbs check'")
