"""TLP 2.0 labels: read as people write them, refused when missing or unknown."""

from __future__ import annotations

import pytest

from tldops.alerts.tlp import Tlp, find, parse
from tldops.kernel.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("AMBER", Tlp.AMBER),
        ("tlp:amber+strict", Tlp.AMBER_STRICT),
        ("TLP: Amber + Strict", Tlp.AMBER_STRICT),
        ("white", Tlp.CLEAR),
        (" red ", Tlp.RED),
        ("GREEN", Tlp.GREEN),
    ],
)
def test_parse(raw, label):
    assert parse(raw) is label


@pytest.mark.parametrize("raw", ["", None, "AMBER-STRICT", "PURPLE", "TLP:"])
def test_a_missing_or_unknown_label_is_refused(raw):
    with pytest.raises(InvalidInput) as exc:
        parse(raw)
    assert (
        exc.value.field == "tlp" and "CLEAR, GREEN, AMBER, AMBER+STRICT, RED" in exc.value.message
    )


def test_find_in_a_subject():
    assert find("[TLD-OPS][TLP:AMBER+STRICT] DGA hitting .fr") is Tlp.AMBER_STRICT
    assert find("Re: [TLP:RED] phishing kit") is Tlp.RED
    assert find("TLP rollout plans") is None
    assert Tlp.AMBER_STRICT.tag == "TLP:AMBER+STRICT"
    assert Tlp.RED.named_only and not Tlp.AMBER.named_only
    assert not Tlp.CLEAR.members_only and Tlp.GREEN.members_only
