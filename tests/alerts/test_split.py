"""Splitting a list of domain names by ccTLD: the rules (IDN both ways, the last label, gTLDs set
aside, every kind of invalid line by its number), the slices, the command's outputs, and the same
counts as tldextract on generated names."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys

import idna
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tldops import csvcells
from tldops.alerts import split as splitting
from tldops.alerts.split import cctld_index, punycode, split
from tldops.alerts.tlp import Tlp
from tldops.cli import EXIT_ERROR, EXIT_NOT_FOUND


@pytest.fixture
def cctlds(catalog, make_tld) -> dict[str, str]:
    """The catalog fixture (fr, nl, br, ca, рф, ua; .an retired) plus io, uk, 中国 and مصر."""
    make_tld("io")
    make_tld("uk", iso_code="GB", reserved_code="UK")
    make_tld("xn--fiqs8s", ulabel="中国", iso_code="CN")
    make_tld("xn--wgbh1c", ulabel="مصر", iso_code="EG")
    return cctld_index()


def lines(*names: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(names) + "\n").encode("utf-8"))


def run(*args: str, stdin: io.IOBase | None = None) -> str:
    out = io.StringIO()
    kwargs = {"stdout": out, "stderr": io.StringIO()}
    if stdin is not None:
        kwargs["stdin"] = stdin
    call_command("alert", *args, **kwargs)
    return out.getvalue()


def test_index_maps_a_and_u_labels_of_delegated_cctlds(cctlds):
    assert cctlds["xn--p1ai"] == cctlds["рф"] == "xn--p1ai"
    assert cctlds["中国"] == "xn--fiqs8s" and cctlds["io"] == "io"
    assert "an" not in cctlds  # retired
    assert "com" not in cctlds


def test_idn_both_ways_last_label_and_gtlds_set_aside(cctlds, tmp_path):
    result = split(
        lines(
            "пример.рф",
            "xn--e1afmkfd.xn--p1ai",
            "ПРИМЕР.РФ.",
            "bank.XN--P1AI",
            "www.example.co.uk",
            "example.org.uk.",
            "api.github.io",
            "例子.中国",
            "مثال.مصر",
            "example.com",
            "example.org",
            "пример.com",
            "example.unknowntld",
            "uk",
            "пример。рф",  # UTS 46 maps the ideographic full stop to a dot
            "ＥＸＡＭＰＬＥ．ＩＯ",  # and full-width letters to ASCII
            "soft\u00adhyphen.io",  # and drops a soft hyphen
        ),
        cctlds,
        out_dir=tmp_path,
    )
    assert result.counts == {"xn--p1ai": 5, "uk": 3, "io": 3, "xn--fiqs8s": 1, "xn--wgbh1c": 1}
    assert result.not_cctld == 4
    assert (result.invalid, result.invalid_lines, result.lines) == (0, [], 17)
    io_names = (tmp_path / "io.csv").read_text().split()[1:]
    assert io_names == ["api.github.io", "example.io", "softhyphen.io"]
    rf_names = (tmp_path / "xn--p1ai.csv").read_text().split()[1:]
    assert rf_names == ["xn--e1afmkfd.xn--p1ai"] * 3 + ["bank.xn--p1ai", "xn--e1afmkfd.xn--p1ai"]


@pytest.mark.parametrize(
    "bad",
    [
        "a..example.fr",  # an empty label
        ".example.fr",
        "example.fr..",  # one trailing dot is removed, not two
        "x" * 64 + ".fr",  # a label over 63 octets
        "-example.fr",  # a leading hyphen
        "example-.fr",  # a trailing hyphen
        "a.b-.fr.",
        "ex_ample.fr",  # characters outside letters, digits, hyphen
        "ex ample.fr",
        "example!.fr",
        "exa*mple.fr",
        "☃.fr",  # not allowed by IDNA 2008
        "a\u200d.fr",  # a joiner out of its context
        "-пример.рф",  # IDNA 2008's hyphen rules on a U-label
        "пример-.рф",
        "пр--имер.рф",
        ".".join(["a" * 63] * 4),  # 255 octets
        ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 59, "fr"]),  # 254 octets
        ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 59, "fr"]) + ".",
        "192.0.2.1",  # a bare IPv4 address
        "127.1",
        "2001:db8::1",  # a bare IPv6 address
        "[2001:db8::1]",
    ],
)
def test_each_kind_of_invalid_name_is_reported_by_its_line(cctlds, bad):
    result = split(lines("# feed", "", "ok.fr", bad, "fine.nl"), cctlds)
    assert (result.invalid, result.invalid_lines) == (1, [4]), bad
    assert result.counts == {"fr": 1, "nl": 1}
    assert result.not_cctld == 0


def test_longest_names_and_labels_are_valid(cctlds):
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 58, "fr"])
    assert len(longest) == 253
    result = split(lines("x" * 63 + ".fr", longest, longest + ".", longest + "x"), cctlds)
    assert result.counts == {"fr": 3}
    assert result.invalid_lines == [4]


def test_bytes_not_utf8_and_crlf_and_white_space(cctlds):
    data = b"\xef\xbb\xbfbom.ca\r\ncaf\xe9.fr\r\n  spaced.fr \t\r\nwindows.nl\r\n\xc2\xa0nbsp.br\xc2\xa0\r\n"
    result = split(io.BytesIO(data), cctlds)  # a byte-order mark is ignored (UTS 46)
    assert result.counts == {"ca": 1, "fr": 1, "nl": 1, "br": 1}
    assert result.invalid_lines == [2]


def test_blank_and_comment_lines_are_skipped_but_counted_as_lines(cctlds):
    result = split(
        lines("", "# a comment", "   ", "  # indented comment", "-bad.fr", "ok.fr"), cctlds
    )
    assert result.invalid_lines == [5] and result.counts == {"fr": 1} and result.lines == 6


def test_text_streams_and_chunks_cut_anywhere_give_the_same_result(cctlds):
    names = ["пример.рф", "Www.Example.CO.UK.", "-bad.fr", "ok.io", "", "x.com", "1.2.3.4"] * 50
    data = ("\n".join(names)).encode("utf-8")  # no newline at the end
    whole = split(io.BytesIO(data), cctlds)
    for size in (1, 2, 7, 64):
        pieces = [data[i : i + size] for i in range(0, len(data), size)]
        assert split(iter(pieces), cctlds) == whole
    assert split(io.StringIO(data.decode("utf-8")), cctlds) == whole
    assert whole.counts == {"xn--p1ai": 50, "uk": 50, "io": 50}
    assert whole.invalid == 100 and whole.invalid_lines[:2] == [3, 7]


def test_a_line_too_long_to_keep_is_invalid_and_skipped(cctlds):
    huge = b"a" * (splitting.MAX_LINE * 3)
    data = b"one.fr\n" + huge + b".fr\ntwo.fr\n" + huge
    pieces = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    result = split(iter(pieces), cctlds)
    assert (result.counts, result.invalid_lines, result.lines) == ({"fr": 2}, [2, 4], 4)


def test_invalid_lines_are_bounded_but_all_counted(cctlds):
    result = split(lines(*(["-bad.fr", "ok.fr"] * 20)), cctlds, max_invalid_lines=5)
    assert result.invalid == 20 and result.invalid_lines == [1, 3, 5, 7, 9]


def test_parallel_parts_add_up_to_the_single_process_result(cctlds, tmp_path, monkeypatch):
    names = []
    rnd = random.Random(7)
    for i in range(3000):
        names.append(
            rnd.choice(["-bad.fr", "ok.fr", "пример.рф", "X.CO.UK.", "a.com", "", "#", "1.2.3.4"])
            + ("" if i % 3 else "\r")
        )
    path = tmp_path / "names.txt"
    path.write_bytes("\n".join(names).encode("utf-8"))
    with path.open("rb") as handle:
        alone = split(handle, cctlds, workers=1, max_invalid_lines=100)
    monkeypatch.setattr(splitting, "PARALLEL_FROM", 0)
    monkeypatch.setattr(splitting, "CHUNK", 1000)  # parts of a few hundred lines
    with path.open("rb") as handle:
        assert len(splitting._parts(handle, 3)) == 3
        together = split(handle, cctlds, workers=3, max_invalid_lines=100)
    assert together == alone
    assert alone.lines == 3000 and alone.invalid > 100 and len(alone.invalid_lines) == 100


def test_slices_are_written_per_cctld_with_the_tlp_marking(cctlds, tmp_path):
    out = tmp_path / "slices"
    result = split(
        lines("WWW.Example.CO.UK.", "пример.рф", "shop.xn--p1ai", "x.com", "-bad.fr", "nic.fr"),
        cctlds,
        out_dir=out,
        tlp=Tlp.AMBER,
    )
    assert sorted(p.name for p in out.iterdir()) == ["fr.csv", "uk.csv", "xn--p1ai.csv"]
    assert result.files == {a: out / f"{a}.csv" for a in ("fr", "uk", "xn--p1ai")}
    text = (out / "xn--p1ai.csv").read_bytes().decode("utf-8")
    assert text == "# TLP:AMBER\r\ndomain\r\nxn--e1afmkfd.xn--p1ai\r\nshop.xn--p1ai\r\n"
    rows = list(csv.reader(io.StringIO((out / "uk.csv").read_bytes().decode().split("\n", 1)[1])))
    assert rows == [["domain"], ["www.example.co.uk"]]


def test_slices_go_through_csvcells(cctlds, tmp_path, monkeypatch):
    """Names cannot start like a formula (no label starts with a hyphen), so the neutralising is
    seen by swapping the writer's cell rule."""
    monkeypatch.setattr(csvcells, "neutralise", lambda text: "'" + text)
    split(lines("nic.fr"), cctlds, out_dir=tmp_path)
    assert (tmp_path / "fr.csv").read_bytes().decode() == "'domain\r\n'nic.fr\r\n"


def test_fast_idn_path_agrees_with_idna(cctlds, tmp_path):
    """Names in one script go through str.lower and our Punycode; every name must come out as
    idna.encode(uts46=True) makes it, or be invalid exactly when it refuses it."""
    rnd = random.Random(11)
    alphabets = [
        "абвгдежзийклмнопрстуфхцчшщыэюяАБВГДЁЖЗ",
        "中国网络公司安全银行支付",
        "한국인터넷정보",
        "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΣΩς",
        "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÉÖßİ",
        "ひらがなカタカナ・ー",
        "abc-0",
    ]
    names, expected, refused = [], [], 0
    for _ in range(3000):
        alphabet = rnd.choice(alphabets)
        label = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12)))
        if label.isascii() and label[2:4] == "--":
            continue  # idna refuses ASCII "ab--c" (reserved for prefixes); the rules do not
        name = f"{label}.fr"
        names.append(name)
        try:
            expected.append(idna.encode(name, uts46=True).decode("ascii"))
        except idna.IDNAError:
            refused += 1
    result = split(lines(*names), cctlds, out_dir=tmp_path)
    written = (tmp_path / "fr.csv").read_bytes().decode().split("\r\n")[1:-1]
    assert written == expected
    assert result.invalid == refused


def test_punycode_is_rfc_3492():
    rnd = random.Random(3)
    alphabet = "aé-ü中文한국абвгαβ0\U0001f600"
    for _ in range(2000):
        label = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 20)))
        assert punycode(label) == label.encode("punycode").decode("ascii")


def test_counts_match_a_tldextract_loop(cctlds):
    """The per-ccTLD counts of the splitter and of tldextract (offline: its bundled list) on
    generated names: ASCII and IDN, multi-label suffixes, upper case, trailing dots."""
    import tldextract

    rnd = random.Random(2026)
    tlds = ["fr", "nl", "br", "ca", "ua", "io", "uk", "рф", "xn--p1ai", "中国", "xn--fiqs8s", "مصر"]
    tlds += ["com", "org", "net", "info", "xyz", "an"]
    seconds = {"uk": ["co", "org", "ac"], "br": ["com", "gov"], "ua": ["com", "kiev"]}
    names = []
    for _ in range(4000):
        tld = rnd.choice(tlds)
        labels = [tld]
        if tld in seconds and rnd.random() < 0.5:
            labels.insert(0, rnd.choice(seconds[tld]))
        alphabet = rnd.choice(["abcdefghij0123456789", "пример", "例子网", "bücher"])
        labels.insert(0, "".join(rnd.choice(alphabet) for _ in range(rnd.randint(2, 12))))
        if rnd.random() < 0.3:
            labels.insert(0, "www")
        name = ".".join(labels)
        name = name.upper() if rnd.random() < 0.2 else name
        names.append(name + ("." if rnd.random() < 0.1 else ""))
    result = split(lines(*names), cctlds)
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    counts: dict[str, int] = {}
    other = 0
    for name in names:
        name = name.lower().removesuffix(".")
        suffix = extract(name).suffix
        alabel = cctlds.get(suffix.rpartition(".")[2]) if suffix else None
        if alabel:
            counts[alabel] = counts.get(alabel, 0) + 1
        else:
            other += 1
    assert result.invalid == 0
    assert result.counts == counts and result.not_cctld == other
    assert len(counts) == 10  # every ccTLD drawn; .an is retired: not a ccTLD any more


# --- the command -------------------------------------------------------------------------------


def write(tmp_path, *names: str):
    path = tmp_path / "feed.txt"
    path.write_text("\n".join(names) + "\n", encoding="utf-8")
    return path


def test_json_is_exactly_the_documented_object(cctlds, tmp_path):
    path = write(tmp_path, "a.fr", "b.рф", "c.co.uk", "d.com", "-bad.fr", "", "1.2.3.4")
    data = json.loads(run("split", str(path), "--format", "json"))
    assert data == {
        "counts": {"fr": 1, "uk": 1, "xn--p1ai": 1},
        "not_cctld": 1,
        "invalid": 2,
        "invalid_lines": [5, 7],
    }
    assert list(data) == ["counts", "not_cctld", "invalid", "invalid_lines"]


def test_table_and_csv_have_a_row_per_cctld_and_the_totals(cctlds, tmp_path):
    path = write(tmp_path, "a.fr", "b.fr", "b.рф", "d.com", "-bad.fr")
    table = run("split", str(path))
    assert "xn--p1ai" in table and "рф" in table and "Invalid lines: 5" in table
    rows = list(csv.DictReader(io.StringIO(run("split", str(path), "--format", "csv"))))
    assert rows[0] == {"cctld": "fr", "u_label": "fr", "names": "2"}
    assert rows[1] == {"cctld": "xn--p1ai", "u_label": "рф", "names": "1"}
    assert [r["names"] for r in rows[2:]] == ["1", "1", "3"]  # other TLDs, invalid, total


def test_stdin_and_out_dir_with_tlp(cctlds, tmp_path):
    out = tmp_path / "slices"
    stdin = io.TextIOWrapper(io.BytesIO("Пример.РФ\nnic.fr\n".encode()), encoding="utf-8")
    data = json.loads(
        run(
            "split",
            "-",
            "--out",
            str(out),
            "--tlp",
            "amber+strict",
            "--format",
            "json",
            stdin=stdin,
        )
    )
    assert data["counts"] == {"fr": 1, "xn--p1ai": 1}
    assert (out / "fr.csv").read_bytes().decode().startswith("# TLP:AMBER+STRICT\r\ndomain\r\n")


def test_bad_command_lines_are_refused(cctlds, tmp_path):
    path = write(tmp_path, "a.fr")
    with pytest.raises(CommandError) as missing:
        run("split", str(tmp_path / "nope.txt"))
    assert missing.value.returncode == EXIT_NOT_FOUND
    with pytest.raises(CommandError) as unknown:
        run("split", str(path), "--out", str(tmp_path / "o"), "--tlp", "PURPLE")
    assert unknown.value.returncode == EXIT_ERROR and "CLEAR, GREEN" in str(unknown.value)
    with pytest.raises(CommandError) as alone:
        run("split", str(path), "--tlp", "amber")
    assert "--out" in str(alone.value)
    assert not (tmp_path / "o").exists()


def _by_the_rules(line: str) -> str | None:
    """The rules of docs/alerts.md written plainly, for ASCII lines: the last label, ``""`` for
    a skipped line, ``None`` for an invalid one."""
    text = line.strip()
    if not text or text.startswith("#"):
        return ""
    name = text.lower()
    name = name[:-1] if name.endswith(".") else name
    labels = name.split(".")
    if len(name) > 253 or labels[-1].isdigit():
        return None
    for label in labels:
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return None
        if any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in label):
            return None
    return labels[-1]


def test_the_fast_pattern_follows_the_rules_on_random_ascii_lines():
    rnd = random.Random(5)
    alphabet = "aZ09-.. \t_#\r"
    lines_ = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 9))) for _ in range(20000)]
    lines_ += ["x" * n + ".fr" + "." * d for n in (62, 63, 64) for d in (0, 1)]
    lines_ += [".".join(["a" * 63] * 3 + ["b" * n]) + "." * d for n in (60, 61, 62) for d in (0, 1)]
    expected_invalid = []
    tally: dict[str, int] = {}
    for number, line in enumerate(lines_, 1):
        label = _by_the_rules(line)
        if label is None:
            expected_invalid.append(number)
        elif label:
            tally[label] = tally.get(label, 0) + 1
    data = "\n".join(line.replace("\n", "") for line in lines_).encode("ascii")
    result = split(io.BytesIO(data), {"a": "a", "z": "z"}, max_invalid_lines=10**6)
    assert result.invalid_lines == expected_invalid
    assert result.counts == {k: v for k, v in tally.items() if k in ("a", "z")}
    assert result.not_cctld == sum(v for k, v in tally.items() if k not in ("a", "z"))


def test_the_command_splits_a_big_file_in_parts(cctlds, tmp_path, monkeypatch):
    rnd = random.Random(9)
    names = [
        rnd.choice(["a.fr", "b.рф", "-c.fr", "d.co.uk", "e.com", "#", ""]) for _ in range(4000)
    ]
    path = write(tmp_path, *names)
    with path.open("rb") as handle:
        alone = split(handle, cctlds).as_json()
    monkeypatch.setattr(splitting, "PARALLEL_FROM", 0)
    monkeypatch.setattr(splitting, "CHUNK", 2000)
    monkeypatch.setattr(splitting.os, "cpu_count", lambda: 2)
    forks = []
    real_fork = splitting.os.fork
    monkeypatch.setattr(splitting.os, "fork", lambda: forks.append(1) or real_fork())
    assert json.loads(run("split", str(path), "--format", "json")) == alone
    assert forks == [1]  # one process per CPU: this one and a worker


def test_a_real_process_prints_everything_before_its_quick_exit(tmp_path):
    """From the command line the split ends without Python's teardown (Command.run_from_argv):
    its whole output must be out first, to a pipe as to a file, and its slices written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDOPS_")}
    env["TLDOPS_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tldops", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert cli("migrate", "-v", "0").returncode == 0
    assert cli("catalog", "load").returncode == 0
    path = write(tmp_path, *(["-bad.fr", "пример.рф", "a.co.uk", "x.com"] * 15000))
    done = cli("alert", "split", str(path), "--format", "json", "--out", str(tmp_path / "s"))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # more than a pipe's buffer: 10,000 line numbers
    assert data["counts"] == {"uk": 15000, "xn--p1ai": 15000} and data["invalid"] == 15000
    assert data["invalid_lines"][-1] == 39997 and data["not_cctld"] == 15000
    assert (tmp_path / "s" / "uk.csv").read_text().count("a.co.uk") == 15000
    table = cli("alert", "split", str(path))
    assert table.returncode == 0 and table.stdout.rstrip().endswith("(and 14980 more)")
    assert cli("alert", "split", str(tmp_path / "nope")).returncode == EXIT_NOT_FOUND
