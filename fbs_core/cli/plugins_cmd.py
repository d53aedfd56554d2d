"""``fbs plugins``: what is installed, what it provides, and what failed."""

from __future__ import annotations

import json

import click

from .context import CliContext


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--all", "show_all", is_flag=True, help="Include the core's built-in plugins.")
@click.pass_obj
def command(obj: CliContext, as_json: bool, show_all: bool) -> None:
    """List plugins with their distribution, types, hooks and failures."""
    from rich.table import Table
    from rich.text import Text

    from ..plugins import describe_plugins

    entries = describe_plugins(obj.plugin_manager(), obj.registry())
    if not show_all:
        entries = [e for e in entries if not e["builtin"]]
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    table = Table("plugin", "distribution", "status", "provides", "hooks", title="Plugins")
    for e in entries:
        dist = f"{e['distribution']} {e['version']}" if e["distribution"] else ""
        provides = "; ".join(f"{k}: {', '.join(v)}" for k, v in e["provides"].items())
        table.add_row(*map(Text, (e["name"], dist, e["status"], provides, ", ".join(e["hooks"]))))
    obj.console.print(table)
    failures = [(e["name"], f) for e in entries for f in e["failures"]]
    if failures:
        problems = Table("plugin", "stage", "error", title="Failures")
        for name, f in failures:
            problems.add_row(*map(Text, (name, f["stage"], f["error"])))
        obj.console.print(problems)
