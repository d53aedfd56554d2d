"""Configuration: ``fbs.toml`` → validated :class:`Settings`.

The core owns every table except the ``options`` sub-table of an instance, which belongs to
the instance's plugin type and is validated later (:func:`fbs_core.plugins.build_runtime`).

Secrets are written ``{ env = "NAME" }`` anywhere inside an ``options`` table. The loader
replaces each one with a :class:`pydantic.SecretStr` holding the variable's value, so a
secret never shows in a ``repr``, a log line or an error message. Commands that only read
the database load the file with ``resolve_secrets=False``: the references are checked but
the variables need not be set.

Values are strictly typed: TOML has numbers and booleans, so ``"30"`` where a number
belongs or ``"yes"`` where ``true`` belongs is reported rather than converted.

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
    field_validator,
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

MERCHANT_ID_MAX_LENGTH = 32
"""A purchase-order number is ``<merchant_id>-<order>-<n>`` and a warehouse takes 64 characters."""
MERCHANT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
SUPPORTED_DATABASES = ("sqlite", "postgresql", "postgres")
"""URL schemes (before any ``+driver``) of the databases fbs runs on."""


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
    port: int = Field(default=8750, ge=1, le=65535)


class ConsoleSettings(BaseModel):
    """The ``[console]`` table: the merchant console (web pages) served by ``fbs run``.

    ``fbs console`` serves it on its own whatever ``enabled`` says.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    """Serve the console from ``fbs run`` as well."""
    host: str = "127.0.0.1"
    port: int = Field(default=8760, ge=1, le=65535)
    public_url: str = ""
    """The address people open (e.g. ``https://orders.example.com`` behind a proxy); an
    https address makes the session cookie ``Secure``. Empty: ``http://host:port``."""


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
    """A slug (lowercase letters, digits, '-'; at most 32 characters) that starts PO numbers."""
    database_url: str = "sqlite:///fbs.db"
    """A relative sqlite path is resolved against the config file's folder;
    env ``FBS_DATABASE_URL`` overrides."""
    fulfillment: FulfillmentRules = FulfillmentRules()
    plugins: PluginSettings = PluginSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    server: ServerSettings = ServerSettings()
    console: ConsoleSettings = ConsoleSettings()
    channels: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    suppliers: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    payments: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    tracking: dict[InstanceName, InstanceSettings] = Field(default_factory=dict)
    config_path: Path | None = None
    """Absolute path of the file these settings came from; set by the loader."""

    @field_validator("merchant_id")
    @classmethod
    def _merchant_id_is_a_slug(cls, value: str) -> str:
        if not MERCHANT_ID_PATTERN.fullmatch(value) or len(value) > MERCHANT_ID_MAX_LENGTH:
            raise ValueError(
                "must be a slug: lowercase letters, digits and '-', starting with a letter or "
                f"digit, at most {MERCHANT_ID_MAX_LENGTH} characters"
            )
        return value


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


def load_settings(path: Path, *, resolve_secrets: bool = True) -> Settings:
    """Read, resolve and validate one config file.

    Args:
        path: the config file.
        resolve_secrets: read every ``{ env = "NAME" }`` from the environment. Commands
            that never build adapters pass False: the references stay as they are written
            (``{"env": "NAME"}``) and an unset variable is not a problem.

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
    problems.extend(_resolve_secrets(raw, resolve=resolve_secrets))
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(format_validation_errors(exc, Settings, hide_input=_is_options))
        settings = None
    if settings is not None:
        problems.extend(webhook_secret_problems(settings))
        problems.extend(_loose_values(raw, settings, ()))
        from_env = os.environ.get(DATABASE_URL_ENV)
        url_problem = database_url_problem(from_env or settings.database_url)
        if url_problem is not None:
            key = f"database_url (from {DATABASE_URL_ENV})" if from_env else "database_url"
            problems.append(f"{key}: {url_problem}")
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
        message = error["msg"].removeprefix("Value error, ")
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


SECRET_MASK = "**********"
LONG_SECRET_LENGTH = 8
"""A secret this long is masked wherever it appears; a shorter one only as a whole word."""


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """Mask whole secret values in ``text``, and never a piece of an ordinary word.

    Messages should not carry secrets in the first place; this is the safety net for text
    a remote service wrote (an error body that echoes a key). A long secret is replaced
    wherever it stands; a short one (an API key of ``e``) only where it stands alone, so
    ``could not reach the warehouse`` stays readable.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if not secret:
            continue
        if len(secret) >= LONG_SECRET_LENGTH:
            text = text.replace(secret, SECRET_MASK)
        else:
            text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", SECRET_MASK, text)
    return text


def _is_options(loc: tuple[str, ...]) -> bool:
    """Whether ``loc`` is inside an instance's options, which may hold secrets."""
    return len(loc) >= 3 and loc[0] in INSTANCE_SECTIONS and loc[2] == "options"


def database_url_problem(url: str) -> str | None:
    """What is wrong with a database URL at a glance (its scheme), or None.

    Only the scheme is judged here; whether the database can be opened is found out by
    opening it. The URL itself is never echoed: it may hold a password.
    """
    match = re.match(r"([A-Za-z][A-Za-z0-9.+-]*)://", url)
    if match is None:
        return (
            "not a database URL; write sqlite:///path/to/fbs.db or "
            "postgresql://user@host:5432/dbname"
        )
    backend = match.group(1).split("+")[0].lower()
    if backend not in SUPPORTED_DATABASES:
        return f"fbs does not work with '{backend}' databases; use sqlite or postgresql"
    return None


def _loose_values(raw: Mapping[str, Any], model: BaseModel, loc: tuple[str, ...]) -> list[str]:
    """Values pydantic converted that TOML would have written as their own type.

    ``poll_interval = "30"`` or ``enabled = "yes"`` is almost always a slip; reporting it
    beats guessing. Plugin ``options`` belong to their plugin and are skipped.
    """
    problems: list[str] = []
    fields = type(model).model_fields
    for key, value in raw.items():
        if key not in fields or key == "options":
            continue
        parsed = getattr(model, key)
        here = (*loc, key)
        if isinstance(value, Mapping) and isinstance(parsed, BaseModel):
            problems.extend(_loose_values(value, parsed, here))
        elif isinstance(value, Mapping) and isinstance(parsed, Mapping):
            for name, table in value.items():
                if isinstance(table, Mapping) and isinstance(parsed.get(name), BaseModel):
                    problems.extend(_loose_values(table, parsed[name], (*here, name)))
        elif isinstance(parsed, bool):
            if not isinstance(value, bool):
                problems.append(
                    f"{dotted(here)}: write true or false without quotes (got {value!r})"
                )
        elif isinstance(parsed, int | float) and isinstance(value, str | bool):
            problems.append(f"{dotted(here)}: write a number without quotes (got {value!r})")
        elif isinstance(parsed, int) and isinstance(value, float):
            problems.append(f"{dotted(here)}: write a whole number (got {value!r})")
    return problems


def _resolve_secrets(raw: dict[str, Any], *, resolve: bool = True) -> list[str]:
    """Replace ``{ env = "NAME" }`` inside every instance's options; return problems.

    With ``resolve=False`` the references are only checked for their shape.
    """
    problems: list[str] = []
    for section in INSTANCE_SECTIONS:
        instances = raw.get(section)
        if not isinstance(instances, dict):
            continue
        for name, table in instances.items():
            if isinstance(table, dict) and isinstance(table.get("options"), dict):
                table["options"] = _resolve_env(
                    table["options"], (section, name, "options"), problems, resolve
                )
    return problems


def _resolve_env(value: Any, loc: tuple[str, ...], problems: list[str], resolve: bool) -> Any:
    if isinstance(value, dict):
        misspelled = _misspelled_env_reference(value)
        if misspelled is not None:
            problems.append(f"{dotted((*loc, misspelled))}: unknown key; did you mean 'env'?")
            return None
        if "env" in value and len(value) > 1:
            extra = ", ".join(sorted(k for k in value if k != "env"))
            problems.append(
                f"{dotted(loc)}: a secret reference takes only 'env' (also got {extra})"
            )
            return None
        if set(value) == {"env"}:
            var = value["env"]
            if not isinstance(var, str) or not var:
                problems.append(f"{dotted(loc)}: 'env' must name an environment variable")
                return None
            if not resolve:
                return value
            if var not in os.environ:
                problems.append(f"{dotted(loc)}: environment variable {var} is not set")
                return None
            return SecretStr(os.environ[var])
        return {k: _resolve_env(v, (*loc, k), problems, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, (*loc, str(i)), problems, resolve) for i, v in enumerate(value)]
    return value


def _misspelled_env_reference(table: Mapping[str, Any]) -> str | None:
    """The key of ``{ envv = "NAME" }``-like tables: one string value under a key close to env."""
    if len(table) != 1:
        return None
    ((key, value),) = table.items()
    if key == "env" or not isinstance(value, str):
        return None
    return key if difflib.get_close_matches(key.lower(), ["env"], n=1, cutoff=0.6) else None


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
