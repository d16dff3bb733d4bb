"""A progress bar for long work, shown on a terminal only: the catalog's loads and syncs use it
from the services, the commands through :mod:`tldops.cli`."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def progress(
    items: Iterable[Any], *, total: int | None, description: str, enabled: bool = True
) -> Iterator[Any]:
    """Iterate with a rich progress bar on stderr (hidden when not a terminal or not enabled)."""
    console = Console(file=sys.stderr)
    if not enabled or not console.is_terminal:
        yield from items
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
