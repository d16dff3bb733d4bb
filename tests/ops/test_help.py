"""``tldops --help`` lists tldops' commands by app and hides Django's raw ones (issue 9)."""

from __future__ import annotations

import pytest

from tldops.__main__ import main

HIDDEN = ("flush", "sqlflush", "createsuperuser", "dumpdata", "loaddata", "shell", "dbshell",
          "squashmigrations", "startapp", "makemessages", "changepassword")  # fmt: skip


def _help(capsys, *argv: str) -> str:
    main(list(argv))
    return capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--help"], ["help"], ["-h"]])
def test_help_lists_tldops_commands_by_app_and_hides_djangos(capsys, argv):
    text = _help(capsys, *argv)
    lines = text.splitlines()
    for app, command in [("directory", "members"), ("mail", "outbox"), ("ops", "run"),
                         ("repository", "reachability"), ("catalog", "catalog")]:  # fmt: skip
        start = lines.index(f"  [{app}]")
        assert any(line.split()[0] == command for line in lines[start + 1 : start + 6]), app
    members = next(line for line in lines if line.split()[:1] == ["members"])
    assert "member directory" in members and len(members) < 120  # one line of help
    for name in ("migrate", "check"):
        assert any(line.split()[:1] == [name] for line in lines), name
    words = {line.split()[0] for line in lines if line.startswith("    ")}
    assert not words & set(HIDDEN)
    assert "tldops help --all" in text


def test_help_all_shows_the_developer_commands(capsys):
    text = _help(capsys, "help", "--all")
    assert "Developer commands" in text
    developer = text.split("Developer commands", 1)[1]
    for name in HIDDEN:
        assert f"    {name}\n" in developer + "\n", name


def test_hidden_commands_still_run_by_name(capsys):
    with pytest.raises(SystemExit) as done:
        main(["flush", "--help"])
    assert done.value.code == 0
    assert "usage: tldops flush" in capsys.readouterr().out
