"""``fbs channels``: what a channel instance can set up on its store.

``fbs channels subscribe <instance> --url https://…`` asks the channel to subscribe its
store's order webhooks to fbs's address through ``OrderSource.subscribe(url)``, which
returns ``(topic, outcome)`` pairs and is idempotent, so running the command again
creates nothing new.
"""

from __future__ import annotations

import click

from ..errors import AdapterError, UserError
from .context import CliContext


@click.group("channels")
def command() -> None:
    """Set up a channel's store: subscribe its webhooks to fbs."""


@command.command("subscribe")
@click.argument("instance")
@click.option(
    "--url",
    required=True,
    help="The public HTTPS address of this instance's endpoint, e.g. "
    "https://fbs.example.com/webhooks/<instance>.",
)
@click.pass_obj
def subscribe(obj: CliContext, instance: str, url: str) -> None:
    """Subscribe INSTANCE's order webhooks to URL (again: nothing new is created)."""
    obj.settings_with_secrets()
    channels = obj.runtime().channels
    channel = channels.get(instance)
    if channel is None:
        names = ", ".join(sorted(channels)) or "none"
        raise UserError(f"no enabled channel named {instance!r}; channels: {names}")
    if not url.startswith("https://"):
        raise UserError("--url must be an https:// address the store can reach")
    try:
        outcome = channel.subscribe(url)
    except NotImplementedError:
        raise UserError(f"channel {instance!r} cannot subscribe webhooks from fbs") from None
    except AdapterError as exc:
        raise UserError(f"{instance}: {exc.code}: {exc.message}") from None
    for topic, state in outcome:
        click.echo(f"{topic}: {state}")
