"""Configuration, read once: environment variables (``TLDOPS_*``) over an optional TOML file.

The file is named by ``TLDOPS_CONFIG`` (default ``<data dir>/tldops.toml`` when it exists); its keys are
the variable names without the ``TLDOPS_`` prefix, in lower case (``database_url = "postgres://…"``).
Secrets are never logged and never have a default in the repository: the secret key is generated
once into the data directory when none is configured.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

PREFIX = "TLDOPS_"


def _data_dir() -> Path:
    raw = os.environ.get(PREFIX + "DATA_DIR")
    path = Path(raw) if raw else Path.cwd() / "var"
    return path.expanduser().resolve()


def _load_file(data_dir: Path) -> dict[str, object]:
    raw = os.environ.get(PREFIX + "CONFIG")
    path = Path(raw) if raw else data_dir / "tldops.toml"
    if not path.exists():
        if raw:
            raise SystemExit(f"tldops: configuration file {path} does not exist")
        return {}
    with path.open("rb") as fh:
        return {str(k).lower(): v for k, v in tomllib.load(fh).items()}


@dataclass(frozen=True)
class Source:
    """Looks a setting up in the environment first, then in the file."""

    file: dict[str, object]

    def get(self, name: str, default: str | None = None) -> str | None:
        env = os.environ.get(PREFIX + name)
        if env is not None:
            return env
        value = self.file.get(name.lower())
        return default if value is None else str(value)

    def int(self, name: str, default: int) -> int:
        value = self.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise SystemExit(
                f"tldops: {PREFIX}{name} must be a whole number, not {value!r}"
            ) from exc

    def float(self, name: str, default: float) -> float:
        value = self.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except ValueError as exc:
            raise SystemExit(f"tldops: {PREFIX}{name} must be a number, not {value!r}") from exc

    def bool(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value in (None, ""):
            return default
        return value.strip().lower() in {"1", "true", "yes", "on"}

    def list(self, name: str, default: str) -> list[str]:
        value = self.get(name, default) or ""
        return [part.strip() for part in value.split(",") if part.strip()]


def secret_key(source: Source, data_dir: Path) -> str:
    """Return the configured secret key, or one generated once and kept in the data directory."""
    configured = source.get("SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


DATA_DIR = _data_dir()
SOURCE = Source(_load_file(DATA_DIR))
