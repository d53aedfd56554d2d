"""Configuration: ``fbs.toml`` → validated :class:`Settings`.

The core owns every table except the ``options`` sub-table of an instance, which belongs to
the instance's plugin type and is validated later (:func:`fbs_core.plugins.build_runtime`).

Secrets are written ``{ env = "NAME" }`` anywhere inside an ``options`` table. The loader
replaces each one with a :class:`pydantic.SecretStr` holding the variable's value, so a
secret never shows in a ``repr``, a log line or an error message.

Every problem is reported as a :class:`~fbs_core.errors.ConfigError` whose message names
the file, the dotted key path and the problem (one line per problem, all problems of the
file at once), and suggests the nearest valid key for a misspelled one.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    StringConstraints,
    ValidationError,
)

from .domain.rules import FulfillmentRules
from .errors import ConfigError

DEFAULT_CONFIG_NAME = "fbs.toml"
CONFIG_ENV = "FBS_CONFIG"
DATABASE_URL_ENV = "FBS_DATABASE_URL"
INSTANCE_SECTIONS = ("channels", "suppliers", "payments", "tracking")
"""The four tables of configured instances, in the order the pipeline meets them."""

INSTANCE_NAME_PATTERN = r"^[a-z0-9_-]+$"
InstanceName = Annotated[str, StringConstraints(pattern=INSTANCE_NAME_PATTERN)]


class InstanceSettings(BaseModel):
    """One ``[channels.<name>]`` / ``[suppliers.<name>]`` / ``[payments.<name>]`` table."""

    model_config = ConfigDict(extra="forbid")

    type: str
    """Name of a type registered by an installed plugin, e.g. ``woocommerce``."""
    enabled: bool = True
    """``false`` keeps the table but builds no adapter for it."""
    poll_interval: PositiveInt = 300
    """Seconds between polls of this instance."""
    options: dict[str, Any] = Field(default_factory=dict, repr=False)
    """Validated later by the plugin type's own ``options_model``; secrets are SecretStr."""


class PluginSettings(BaseModel):
    """The ``[plugins]`` table."""

    model_config = ConfigDict(extra="forbid")

    block: list[str] = Field(default_factory=list)
    """Entry-point names never to import."""
    modules: list[str] = Field(default_factory=list)
    """Extra plugin modules to import by dotted path and register (local plugins, fakes)."""


class SchedulerSettings(BaseModel):
    """The ``[scheduler]`` table: how ``fbs run`` paces polls and outbox commands."""

    model_config = ConfigDict(extra="forbid")

    tick_seconds: PositiveFloat = 1.0
    workers: PositiveInt = 8
    """Threads running adapter calls."""
    lease_seconds: PositiveInt = 300
    """How long a claimed poll/command is owned before another worker may take it."""
    max_attempts: PositiveInt = 8
    """Retries of one outbox command before the order is held."""
    backoff_base_seconds: PositiveFloat = 2.0
    backoff_max_seconds: PositiveFloat = 600.0


class ServerSettings(BaseModel):
    """The ``[server]`` table: the webhook endpoints."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8750


def webhook_secret_problems(settings: Settings) -> list[str]:
    """With ``[server] enabled``, every enabled channel must have a ``webhook_secret``.

    A channel without one would have every delivery to ``/webhooks/<name>`` refused with
    401, seen only as a WARNING line while fbs runs; refusing the file says it up front.
    Channel plugins that take webhooks name their signing secret ``webhook_secret``.
    """
    if not settings.server.enabled:
        return []
    problems = []
    for name, channel in settings.channels.items():
        secret = channel.options.get("webhook_secret", "")
        if secret is None:  # an unset environment variable, reported already
            continue
        if isinstance(secret, SecretStr):
            secret = secret.get_secret_value()
        if channel.enabled and not secret:
            problems.append(
                f"{dotted(('channels', name, 'options', 'webhook_secret'))}: required when "
                f"[server] enabled = true; without it every webhook delivery to "
                f"/webhooks/{name} is refused (401). Set it to the secret of the store's webhooks"
            )
    return problems


class Settings(BaseModel):
    """Everything in ``fbs.toml``, validated."""

    model_config = ConfigDict(extra="forbid")

    merchant_id: str = "default"
    database_url: str = "sqlite:///fbs.db"
    """A relative sqlite path is resolved against the config file's folder;
    env ``FBS_DATABASE_URL`` overrides."""
    fulfillment: FulfillmentRules = FulfillmentRules()
    plugins: PluginSettings = PluginSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    server: ServerSettings = ServerSettings()
    channels: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    suppliers: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    payments: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    tracking: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    config_path: Path | None = None
    """Absolute path of the file these settings came from; set by the loader."""


def find_config(explicit: str | Path | None) -> Path:
    """Return the config file to use: ``--config``, else env ``FBS_CONFIG``, else ./fbs.toml.

    Raises:
        ConfigError: the chosen file does not exist, or none of the three places has one.
    """
    if explicit is not None and str(explicit) != "":
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (given with --config)")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (named by {CONFIG_ENV})")
        return path
    path = Path(DEFAULT_CONFIG_NAME)
    if path.is_file():
        return path
    raise ConfigError(
        f"no config file: --config was not given, {CONFIG_ENV} is not set and "
        f"./{DEFAULT_CONFIG_NAME} does not exist; run 'fbs init' to write one"
    )


def load_settings(path: Path) -> Settings:
    """Read, resolve and validate one config file.

    Raises:
        ConfigError: listing every problem of the file, one per line.
    """
    path = Path(path)
    shown = display_path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{shown}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None

    problems: list[str] = []
    if "config_path" in raw:
        del raw["config_path"]
        problems.append("config_path: unknown key")
    problems.extend(_resolve_secrets(raw))
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(format_validation_errors(exc, Settings, hide_input=_is_options))
        settings = None
    else:
        problems.extend(webhook_secret_problems(settings))
    if problems or settings is None:
        raise ConfigError("\n".join(f"{shown}: {problem}" for problem in problems))

    base = path.resolve().parent
    database_url = os.environ.get(DATABASE_URL_ENV) or _resolve_sqlite(settings.database_url, base)
    return settings.model_copy(update={"database_url": database_url, "config_path": path.resolve()})


def display_path(path: Path | None) -> str:
    """Show a config path the way a user typed it: relative to the cwd when inside it."""
    if path is None:
        return DEFAULT_CONFIG_NAME
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def dotted(loc: Iterable[str | int]) -> str:
    """Render a key path as TOML would, quoting keys that are not bare: ``a."b c".d``."""
    parts = []
    for part in loc:
        text = str(part)
        parts.append(text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else f'"{text}"')
    return ".".join(parts)


def format_validation_errors(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    prefix: Sequence[str] = (),
    hide_input: Callable[[tuple[str, ...]], bool] | None = None,
) -> list[str]:
    """Turn a pydantic ValidationError into ``key.path: problem`` lines.

    Unknown keys get a ``did you mean`` suggestion from the model at that path. The bad
    value is echoed only for short scalars, and never where ``hide_input(loc)`` is true
    (plugin options may hold secrets).
    """
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(str(part) for part in error["loc"])
        key = dotted((*prefix, *loc))
        if error["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key{_suggest(model, loc)}")
            continue
        if loc and loc[-1] == "[key]":
            key = dotted((*prefix, *loc[:-1]))
            lines.append(
                f"{key}: invalid instance name; use lowercase letters, digits, '-' and '_'"
            )
            continue
        message = error["msg"]
        secret = hide_input is not None and hide_input(loc)
        value = error.get("input")
        if not secret and isinstance(value, str | int | float | bool) and len(repr(value)) < 60:
            message = f"{message} (got {value!r})"
        lines.append(f"{key}: {message}")
    return lines


def unwrap_secrets(value: Any) -> Any:
    """Return ``value`` with every SecretStr replaced by its plain string, recursively.

    Plugin options models declare their secret fields ``SecretStr`` and wrap them again;
    a plain ``str`` field may also take its value from the environment this way.
    """
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def secret_values(value: Any) -> list[str]:
    """Every non-empty secret string found inside ``value`` (SecretStr, nested)."""
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        return [secret] if secret else []
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in secret_values(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in secret_values(v)]
    return []


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """Mask every secret of 6+ characters in ``text`` (shorter ones would mangle words)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 6:
            text = text.replace(secret, "**********")
    return text


def _is_options(loc: tuple[str, ...]) -> bool:
    """Whether ``loc`` is inside an instance's options, which may hold secrets."""
    return len(loc) >= 3 and loc[0] in INSTANCE_SECTIONS and loc[2] == "options"


def _resolve_secrets(raw: dict[str, Any]) -> list[str]:
    """Replace ``{ env = "NAME" }`` inside every instance's options; return problems."""
    problems: list[str] = []
    for section in INSTANCE_SECTIONS:
        instances = raw.get(section)
        if not isinstance(instances, dict):
            continue
        for name, table in instances.items():
            if isinstance(table, dict) and isinstance(table.get("options"), dict):
                table["options"] = _resolve_env(
                    table["options"], (section, name, "options"), problems
                )
    return problems


def _resolve_env(value: Any, loc: tuple[str, ...], problems: list[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"env"}:
            var = value["env"]
            if not isinstance(var, str) or not var:
                problems.append(f"{dotted(loc)}: 'env' must name an environment variable")
                return None
            if var not in os.environ:
                problems.append(f"{dotted(loc)}: environment variable {var} is not set")
                return None
            return SecretStr(os.environ[var])
        return {k: _resolve_env(v, (*loc, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, (*loc, str(i)), problems) for i, v in enumerate(value)]
    return value


def _resolve_sqlite(url: str, base: Path) -> str:
    """Make a relative ``sqlite:///path`` absolute against ``base``; leave others alone."""
    match = re.fullmatch(r"(sqlite(?:\+\w+)?):///([^?]*)(\?.*)?", url)
    if not match:
        return url
    scheme, file, query = match.group(1), match.group(2), match.group(3) or ""
    if not file or file == ":memory:" or file.startswith("file:") or Path(file).is_absolute():
        return url
    return f"{scheme}:///{(base / file).resolve()}{query}"


def _suggest(model: type[BaseModel], loc: tuple[str, ...]) -> str:
    """``; did you mean 'x'?`` for the key at ``loc``, from the model that holds it."""
    owner = _model_at(model, loc[:-1])
    if owner is None:
        return ""
    choices = [name for name in owner.model_fields if name != "config_path"]
    close = difflib.get_close_matches(loc[-1], choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _model_at(model: type[BaseModel], loc: Sequence[str]) -> type[BaseModel] | None:
    """Follow ``loc`` through nested models and ``dict[str, Model]`` fields."""
    current: Any = model
    remaining = list(loc)
    while remaining:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(remaining.pop(0))
        if field is None:
            return None
        current = _strip_optional(field.annotation)
        if typing.get_origin(current) is dict:
            if not remaining:
                return None
            remaining.pop(0)
            current = _strip_optional(typing.get_args(current)[1])
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
