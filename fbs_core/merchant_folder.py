"""A folder of merchant files: one TOML per merchant, served by one deployment.

``fbs run --config-dir DIR`` (and ``check``, ``orders`` with ``--merchant``) read every
``*.toml`` directly in ``DIR``. Each file is an ordinary fbs config for one merchant;
its merchant id is the file's ``merchant_id`` or, when the file has none, the file's
name without ``.toml`` (``acme.toml`` is merchant ``acme``).

The merchants of one folder share one database and one process's worker pool, so what
belongs to the deployment rather than the merchant (``database_url``, ``[server]``,
``[scheduler] workers`` and ``tick_seconds``) is taken from the first file in name order;
another file may leave those keys out or repeat the same values, and a file that sets a
different value is refused with the key and the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .config import (
    MERCHANT_ID_MAX_LENGTH,
    MERCHANT_ID_PATTERN,
    Settings,
    display_path,
    load_settings,
)
from .errors import ConfigError

MERCHANT_FILE_GLOB = "*.toml"

SHARED_SCHEDULER_KEYS = ("workers", "tick_seconds")
"""``[scheduler]`` keys that belong to the deployment: one pool, one tick."""


@dataclass(frozen=True)
class MerchantFile:
    """One merchant file as last seen on disk."""

    path: Path
    digest: str
    """SHA-256 of the file's bytes: a changed file is one whose digest changed."""


def merchant_files(directory: Path) -> dict[Path, MerchantFile]:
    """Every merchant file in ``directory`` (sorted by name), with its content digest.

    Raises:
        ConfigError: the folder does not exist or cannot be read.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(
            f"{display_path(directory)}: config folder not found (given with --config-dir)"
        )
    found: dict[Path, MerchantFile] = {}
    for path in sorted(directory.glob(MERCHANT_FILE_GLOB)):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue  # removed between listing and reading: seen as removed
        found[path] = MerchantFile(path, hashlib.sha256(data).hexdigest())
    return found


def load_merchant(path: Path, *, resolve_secrets: bool = True) -> Settings:
    """Load one merchant file; its merchant id is its ``merchant_id`` or its file name.

    Raises:
        ConfigError: every problem of the file, one line each naming file and key.
    """
    settings = load_settings(path, resolve_secrets=resolve_secrets)
    if "merchant_id" in settings.model_fields_set:
        return settings
    stem = path.stem
    if not MERCHANT_ID_PATTERN.fullmatch(stem) or len(stem) > MERCHANT_ID_MAX_LENGTH:
        raise ConfigError(
            f"{display_path(path)}: merchant_id: not set, and the file name {stem!r} is not a "
            "merchant id (lowercase letters, digits and '-', at most "
            f"{MERCHANT_ID_MAX_LENGTH} characters); set merchant_id or rename the file"
        )
    return settings.model_copy(update={"merchant_id": stem})


def deployment_problems(settings: Settings, deployment: Settings) -> list[str]:
    """Where a merchant file contradicts the deployment's shared settings (file: key: problem)."""
    shown = display_path(settings.config_path)
    problems = []
    if settings.database_url != deployment.database_url:
        problems.append(
            f"{shown}: database_url: differs from the deployment's database; every merchant "
            "file of a folder shares one database (leave database_url out or repeat it)"
        )
    if "server" in settings.model_fields_set and settings.server != deployment.server:
        problems.append(
            f"{shown}: server: differs from the deployment's [server]; one process serves "
            "one webhook address for every merchant (leave [server] out or repeat it)"
        )
    for key in SHARED_SCHEDULER_KEYS:
        if key in settings.scheduler.model_fields_set and getattr(
            settings.scheduler, key
        ) != getattr(deployment.scheduler, key):
            problems.append(
                f"{shown}: scheduler.{key}: differs from the deployment's "
                f"({getattr(deployment.scheduler, key)}); the merchants of a folder share one "
                "pool and one tick"
            )
    return problems


def find_merchant_file(directory: Path, merchant: str | None) -> Path:
    """The file of ``merchant`` in ``directory`` (the only file when ``merchant`` is None).

    Raises:
        ConfigError: no such merchant, or several merchants and none named.
    """
    files = list(merchant_files(directory))
    shown = display_path(Path(directory))
    if merchant is None:
        if len(files) == 1:
            return files[0]
        if not files:
            raise ConfigError(f"{shown}: no merchant files (*.toml) in the config folder")
        names = ", ".join(path.stem for path in files)
        raise ConfigError(f"{shown}: several merchants ({names}); name one with --merchant")
    for path in files:
        if path.stem == merchant:
            return path
    for path in files:
        try:
            if load_merchant(path, resolve_secrets=False).merchant_id == merchant:
                return path
        except ConfigError:
            continue
    raise ConfigError(f"{shown}: no merchant {merchant!r} in the config folder (--merchant)")
