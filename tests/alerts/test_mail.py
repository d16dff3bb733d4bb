"""Alerts as list mail, and list mail as alerts (tldops.alerts.mailing, tldops.alerts.mail_door).

The list's real pipeline runs: posts are stored and processed as the intake does
(tests.lists.posting), copies are read back from the outbox, the archive from its table.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.conf import settings

from tests.alerts.conftest import raise_as
from tests.lists.posting import deliver, fast_passwords, message, parse, post  # noqa: F401
from tldops.alerts.models import Alert, Reaction, ThreadMessage
from tldops.lists.models import ArchivedMessage, Post
from tldops.mail.models import Delivery, OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_dns(settings):
    settings.DMARC_MITIGATION = False  # the DMARC handler has its own tests


def list_copies() -> list[Delivery]:
    return list(Delivery.objects.filter(message__purpose="list-post").order_by("recipient"))


def list_message() -> EmailMessage:
    return parse(bytes(OutboundMessage.objects.get(purpose="list-post").raw))


def red_copies() -> dict[str, EmailMessage]:
    return {
        d.recipient: parse(bytes(d.message.raw))
        for d in Delivery.objects.filter(message__purpose="alert-red").select_related("message")
    }


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def told(address: str) -> str:
    """Everything the list or the alerts told ``address`` (rejections, receipts)."""
    return "\n".join(
        text_of(parse(bytes(d.message.raw)))
        for d in Delivery.objects.filter(recipient=address)
        .exclude(message__purpose__in=["list-post", "alert-red"])
        .select_related("message")
    )


# --- Alerts raised in a door go out as mail -------------------------------------------------------


@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"])
def test_an_alert_raised_in_the_portal_is_ordinary_list_mail_with_its_label(community, tlp):
    alert = raise_as(community.ana, tlp, title="DGA names", affected=["fr"], body="Seen at 03:00.")
    msg = list_message()
    assert msg["Subject"] == f"[TLD-OPS][TLP:{tlp}] DGA names"
    text = text_of(msg)
    assert text.startswith(f"TLP:{tlp} — ")
    assert "Seen at 03:00." in text
    # The label is also the last line before the list's footer.
    assert text.split("\n-- \n")[0].rstrip().endswith(f"\nTLP:{tlp}")
    assert f"/alerts/{alert.pk}/" in text
    # Every member's own address; the archive keeps it; the alert knows its mail.
    recipients = [d.recipient for d in list_copies()]
    assert {"ana@nic.fr", "marc@nic.fr", "jan@nic.nl"} <= set(recipients)
    archived = ArchivedMessage.objects.get()
    assert archived.subject == f"[TLP:{tlp}] DGA names"  # the archive drops the list tag
    alert.refresh_from_db()
    assert alert.message_id == msg["Message-ID"]
    assert list(alert.thread.values_list("message_id", flat=True)) == [alert.message_id]


def test_amber_strict_never_reaches_a_members_other_addresses(community):
    community.jan.alt_emails = ["jan.private@example.net"]
    community.jan.save()
    raise_as(community.ana, "AMBER+STRICT")
    recipients = {d.recipient for d in Delivery.objects.all()}
    assert "jan@nic.nl" in recipients
    assert "jan.private@example.net" not in recipients


def test_a_red_alert_goes_to_its_readers_one_by_one_and_never_to_the_list(community):
    alert = raise_as(
        community.ana, "RED", title="Registrar account taken over", recipients=["jan@nic.nl"]
    )
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert not ArchivedMessage.objects.exists()
    assert not Post.objects.exists()
    copies = red_copies()
    assert set(copies) == {"ana@nic.fr", "jan@nic.nl"}  # the author and the one named
    for address, msg in copies.items():
        assert msg["To"].addresses[0].addr_spec == address  # nobody sees who else was named
        assert msg["Subject"] == "[TLD-OPS][TLP:RED] Registrar account taken over"
        assert text_of(msg).startswith("TLP:RED — ")
        assert msg["Reply-To"].addresses[0].addr_spec == settings.LIST_ADDRESS
    # Nothing else went out mentioning it (the secretariat, the colleague).
    for d in Delivery.objects.exclude(recipient__in=["ana@nic.fr", "jan@nic.nl"]):
        assert "Registrar account" not in bytes(d.message.raw).decode("utf-8", "replace")
    alert.refresh_from_db()
    assert alert.message_id == copies["jan@nic.nl"]["Message-ID"]


# --- Posts that become alerts ---------------------------------------------------------------------


TEMPLATE = """Category: phishing
Severity: high
Affected: fr, nl
Indicators:
  login-bank.fr
  hxxps://evil[.]example/login
  not a domain!

A phishing kit targets registrars' customers.
"""


def test_a_post_with_a_label_and_the_template_becomes_an_alert_and_goes_to_the_list(community):
    p = post(message(subject="[TLP:GREEN] Phishing kit", body=TEMPLATE))
    assert p.status == Post.Status.ACCEPTED
    alert = Alert.objects.get()
    assert (alert.tlp, alert.category, alert.severity, alert.title) == (
        "GREEN",
        "phishing",
        "high",
        "Phishing kit",
    )
    assert sorted(t.alabel for t in alert.affected.all()) == ["fr", "nl"]
    assert alert.body == "A phishing kit targets registrars' customers."
    assert sorted(alert.indicators.values_list("value", flat=True)) == [
        "https://evil.example/login",
        "login-bank.fr",
    ]
    assert alert.author == community.ana
    assert alert.message_id == p.message_id
    msg = list_message()
    assert msg["Subject"] == "[TLD-OPS][TLP:GREEN] Phishing kit"
    assert text_of(msg).startswith("TLP:GREEN — ")
    assert f"Alert {alert.pk} (alert; phishing; severity high)" in text_of(msg)
    # The author's receipt names the refused line.
    receipt = told("ana@nic.fr")
    assert f"alert {alert.pk}" in receipt
    assert "line 3" in receipt


def test_a_first_line_label_without_a_subject_tag_is_enough(community):
    post(message(subject="Botnet C2 under .nl", body="TLP: amber\nCategory: malware\n\nDetails."))
    alert = Alert.objects.get()
    assert (alert.tlp, alert.category, alert.title, alert.body) == (
        "AMBER",
        "malware",
        "Botnet C2 under .nl",
        "Details.",
    )
    assert list_message()["Subject"] == "[TLD-OPS][TLP:AMBER] Botnet C2 under .nl"


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        ("[TLP:PURPLE] x", "text", "A TLP label is required"),
        ("[TLP:AMBER] x", "Category: bogus\n\ntext", "is not a category"),
        ("[TLP:AMBER] x", "TLP: GREEN\n\ntext", "different TLP labels"),
        ("[TLP:RED] x", "Category: ddos\n\ntext", "name at least one"),
        ("[TLP:GREEN] x", "Public: yes\n\ntext", "Only a TLP:CLEAR alert may be public"),
    ],
)
def test_a_label_or_template_with_mistakes_refuses_the_post_and_nothing_is_sent(
    community, subject, body, expected
):
    p = post(message(subject=subject, body=body))
    assert p.status == Post.Status.REJECTED
    assert not Alert.objects.exists()
    assert not OutboundMessage.objects.filter(purpose__in=["list-post", "alert-red"]).exists()
    assert not ArchivedMessage.objects.exists()
    answer = told("ana@nic.fr")
    assert expected in answer
    assert "Nothing was sent." in answer


def test_a_red_alert_by_mail_goes_to_the_people_named_only(community):
    p = post(
        message(
            subject="[TLP:RED] Key compromise at a registrar",
            body="To: jan@nic.nl\nCategory: hijack\n\nDo not share.",
        )
    )
    assert p.status == Post.Status.DIVERTED
    assert p.subject == ""  # kept from the list's own pages
    alert = Alert.objects.get()
    assert alert.tlp == "RED"
    assert list(alert.recipients.all()) == [community.jan]
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert not ArchivedMessage.objects.exists()
    assert set(red_copies()) == {"ana@nic.fr", "jan@nic.nl"}
    assert "Do not share." in text_of(red_copies()["jan@nic.nl"])


def test_a_red_post_that_would_be_held_is_refused_so_no_moderator_reads_it(community):
    # A stranger's post is held for the moderators; labelled RED, it is refused instead.
    p = post(message(sender="someone@elsewhere.example", subject="[TLP:RED] secret", body="secret"))
    assert p.status == Post.Status.REJECTED
    assert p.subject == ""
    assert not Alert.objects.exists()
    for address in ("sec@tldops.example", "chair@tldops.example"):
        assert not Delivery.objects.filter(recipient=address).exists()
    assert "never held for the moderators" in told("someone@elsewhere.example")


def test_a_reply_to_an_unknown_thread_labelled_red_never_reaches_the_list(community):
    p = post(message(subject="Re: [TLD-OPS][TLP:RED] old thread", body="me too"))
    assert p.status == Post.Status.REJECTED
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()


def test_an_ordinary_post_stays_an_ordinary_post(community):
    p = post(message(subject="Who handles .nl abuse at night?", body="TLP is fun.\n"))
    assert p.status == Post.Status.ACCEPTED
    assert not Alert.objects.exists()
    assert list_message()["Subject"] == "[TLD-OPS] Who handles .nl abuse at night?"


def test_indicator_lists_attached_to_the_mail_are_read(community):
    msg = message(subject="[TLP:AMBER] DGA", body="Category: malware\n\nSee the list.")
    msg.add_attachment(
        b"a1.fr\nb2.nl\n-bad-.fr\n192.0.2.7\n", maintype="text", subtype="plain", filename="dga.txt"
    )
    post(msg)
    alert = Alert.objects.get()
    assert sorted(alert.indicators.values_list("value", flat=True)) == [
        "192.0.2.7",
        "a1.fr",
        "b2.nl",
    ]
    assert "dga.txt, line 3" in told("ana@nic.fr")


# --- Replies ---------------------------------------------------------------------------------------


def test_a_reply_attaches_to_the_alert_and_its_first_line_is_an_answer(community):
    alert = raise_as(community.ana, "AMBER", title="DDoS on .fr")
    OutboundMessage.objects.all().delete()
    root = alert.thread.get().message_id
    p = post(
        message(
            sender="jan@nic.nl",
            name="Jan Jansen",
            subject="Re: [TLD-OPS][TLP:AMBER] DDoS on .fr",
            body="seen here too 120\n\nSame source ASN.\n> quoted\n",
            headers={"In-Reply-To": root, "References": root},
        )
    )
    assert p.status == Post.Status.ACCEPTED
    assert [t.person for t in alert.thread.all()] == [community.ana, community.jan]
    reaction = Reaction.objects.get(alert=alert)
    assert (reaction.person, reaction.kind, reaction.count, reaction.tld.alabel) == (
        community.jan,
        "seen",
        120,
        "nl",
    )
    msg = list_message()
    assert msg["Subject"] == "Re: [TLD-OPS][TLP:AMBER] DDoS on .fr"
    assert text_of(msg).startswith("TLP:AMBER — ")


def test_a_reply_that_lost_the_label_gets_it_back(community):
    alert = raise_as(community.ana, "GREEN", title="Outage")
    OutboundMessage.objects.all().delete()
    post(
        message(
            sender="jan@nic.nl",
            subject="Re: [TLD-OPS] Outage",
            body="Fixed here.",
            headers={"In-Reply-To": alert.message_id},
        )
    )
    assert list_message()["Subject"] == "Re: [TLD-OPS][TLP:GREEN] Outage"


def test_a_reply_to_a_red_alert_reaches_its_readers_only(community):
    alert = raise_as(community.ana, "RED", title="Key theft", recipients=["jan@nic.nl"])
    OutboundMessage.objects.all().delete()
    p = post(
        message(
            sender="jan@nic.nl",
            subject="Re: [TLD-OPS][TLP:RED] Key theft",
            body="mitigated\n\nRotated our keys.",
            headers={"In-Reply-To": alert.message_id},
        )
    )
    assert p.status == Post.Status.DIVERTED
    assert p.subject == ""
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert not ArchivedMessage.objects.exists()
    copies = red_copies()
    assert set(copies) == {"ana@nic.fr"}  # the other reader; not jan himself, nobody else
    assert "Rotated our keys." in text_of(copies["ana@nic.fr"])
    assert Reaction.objects.get(alert=alert).kind == "mitigated"
    assert alert.thread.count() == 2


def test_a_reply_to_a_red_alert_from_someone_not_named_is_refused(community):
    alert = raise_as(community.ana, "RED", title="Key theft", recipients=["jan@nic.nl"])
    OutboundMessage.objects.all().delete()
    p = post(
        message(
            sender="marc@nic.fr",
            name="Marc Dubois",
            subject="Re: something",
            body="What is this?",
            headers={"References": f"<other@x> {alert.message_id}"},
        )
    )
    assert p.status == Post.Status.REJECTED
    assert not red_copies()
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert ThreadMessage.objects.filter(alert=alert).count() == 1


# --- help alert ------------------------------------------------------------------------------------


def test_help_alert_sends_the_template(community):
    local, _at, domain = settings.LIST_ADDRESS.rpartition("@")
    deliver(message(subject="help alert", body="help alert\n"), to=f"{local}-request@{domain}")
    answer = told("ana@nic.fr")
    assert "Subject: [TLP:AMBER]" in answer
    assert "To-affected: yes" in answer
    deliver(message(subject="help", body="help\n"), to=f"{local}-request@{domain}")
    assert "help alert" in told("ana@nic.fr")


def test_the_thread_is_on_the_alert_page_and_in_the_api_for_its_readers_only(community):
    from tests.api.conftest import ApiClient, token_for  # noqa: PLC0415 - the API tests' client
    from tests.web.test_alert_pages import client_for  # noqa: PLC0415 - the portal tests' client

    alert = raise_as(community.ana, "RED", title="Key theft", recipients=["jan@nic.nl"])
    post(
        message(
            sender="jan@nic.nl",
            subject="Re: Key theft",
            body="Rotated our keys at 04:00.",
            headers={"In-Reply-To": alert.message_id},
        )
    )
    page = client_for(community.ana).get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
    assert "Rotated our keys at 04:00." in page.content.decode()
    answer = ApiClient(token=token_for(community.jan)).get(f"/alerts/{alert.pk}")
    assert answer.status_code == 200
    assert [t["by"] for t in answer.json()["thread"]] == ["Ana Lopez", "Jan Jansen"]
    # Anyone not named reaches neither the alert nor its thread: the secretariat included.
    assert client_for(community.sec).get(f"/alerts/{alert.pk}/").status_code == 404
    outsider = ApiClient(token=token_for(community.marc)).get(f"/alerts/{alert.pk}")
    assert outsider.status_code == 404
    assert "Rotated" not in outsider.content.decode()


def test_a_moderator_approving_a_post_with_an_unknown_label_does_not_send_it(community):
    from tldops.directory.audit import Actor  # noqa: PLC0415
    from tldops.lists import moderation  # noqa: PLC0415

    held = post(message(sender="guest@elsewhere.example", subject="[TLP:PURPLE] x", body="x"))
    assert held.status == Post.Status.HELD
    decided = moderation.approve(held, actor=Actor.of(community.sec, "web"))
    assert decided.status == Post.Status.REJECTED
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert "A TLP label is required" in told("guest@elsewhere.example")


# --- Senders, labels and staff pages (review of issue 10) -------------------------------------------


def test_a_reply_labelled_red_in_a_thread_that_is_not_is_refused(community):
    alert = raise_as(community.ana, "AMBER", title="DDoS on .fr")
    OutboundMessage.objects.all().delete()
    p = post(
        message(
            sender="jan@nic.nl",
            subject="Re: [TLD-OPS][TLP:RED] DDoS on .fr",
            body="Our registrar's keys leaked.",
            headers={"In-Reply-To": alert.message_id},
        )
    )
    assert p.status == Post.Status.REJECTED
    assert not OutboundMessage.objects.filter(purpose="list-post").exists()
    assert alert.thread.count() == 1


def test_a_reply_labelled_stricter_than_its_thread_keeps_its_own_label(community):
    alert = raise_as(community.ana, "GREEN", title="Outage")
    OutboundMessage.objects.all().delete()
    post(
        message(
            sender="jan@nic.nl",
            subject="Re: [TLD-OPS][TLP:AMBER+STRICT] Outage",
            body="Our upstream's name, for your eyes only.",
            headers={"In-Reply-To": alert.message_id},
        )
    )
    msg = list_message()
    assert msg["Subject"] == "Re: [TLD-OPS][TLP:AMBER+STRICT] Outage"
    assert text_of(msg).startswith("TLP:AMBER+STRICT — ")


def test_a_red_post_is_withheld_from_every_moderation_door(community):
    from tests.web.test_alert_pages import client_for  # noqa: PLC0415
    from tldops.kernel.errors import NotFound  # noqa: PLC0415
    from tldops.lists import moderation  # noqa: PLC0415

    p = post(message(subject="[TLP:RED] Key compromise", body="To: jan@nic.nl\n\nzqwithheldzq"))
    assert p.status == Post.Status.DIVERTED
    assert b"zqwithheldzq" not in bytes(p.inbound.__class__.objects.get(pk=p.inbound_id).raw)
    with pytest.raises(NotFound):
        moderation.get_post(p.pk)
    page = client_for(community.sec).get(f"/moderation/{p.pk}/")
    assert page.status_code == 404
    assert "zqwithheldzq" not in page.content.decode()
    # The readers have it, and the alert's thread keeps it.
    assert "zqwithheldzq" in text_of(red_copies()["jan@nic.nl"])
    assert "zqwithheldzq" in Alert.objects.get().thread.get().text


def test_no_outbox_page_shows_a_red_title(community):
    from tldops.alerts import notify  # noqa: PLC0415

    notify.save_filter(community.marc, notify.FilterInput(), actor=_actor(community.marc))
    raise_as(
        community.ana,
        "RED",
        title="zqredtitlezq",
        recipients=["marc@nic.fr"],
        indicators=["evil.fr", "evil.nl"],
    )
    from tldops.alerts import slices  # noqa: PLC0415

    slices.run_due()
    outbound = OutboundMessage.objects.filter(purpose__startswith="alert-")
    assert {o.purpose for o in outbound} >= {"alert-red", "alert-notification", "alert-slice"}
    for o in outbound:
        assert "zqredtitlezq" not in o.subject, o.purpose
        assert o.subject.startswith("[TLP:RED] alert ")


def _actor(person):
    from tldops.directory.audit import Actor  # noqa: PLC0415

    return Actor.of(person, "web")


def test_a_post_whose_sender_is_not_verified_raises_nothing(community):
    """The watcher acts in a sender's name only on an authentic post: a moderator who lets an
    unverified one through gets an ordinary post (or, for RED, a refusal)."""
    from tldops.alerts import mail_door  # noqa: PLC0415
    from tldops.mail.community import Action, ListPost  # noqa: PLC0415

    def seen(subject: str, body: str, **headers: str):
        msg = message(subject=subject, body=body, headers=headers)
        return mail_door.take(
            ListPost(
                msg=msg,
                sender="ana@nic.fr",
                person=community.ana,
                message_id=str(msg["Message-ID"]),
                authentic=False,
            )
        )

    assert seen("[TLP:AMBER] DGA", "Category: malware\n\ntext") is None
    red = seen("[TLP:RED] Keys", "To: jan@nic.nl\n\ntext")
    assert red.action == Action.REFUSE
    assert "could not be verified" in red.reason
    alert = raise_as(community.ana, "GREEN", title="Outage")
    assert seen("Re: Outage", "false positive", **{"In-Reply-To": alert.message_id}) is None
    assert not Reaction.objects.exists()
    assert Alert.objects.count() == 1
    assert alert.thread.count() == 1


def test_a_held_post_a_moderator_approves_raises_an_alert_only_from_a_verified_sender(community):
    from tldops.directory.audit import Actor  # noqa: PLC0415
    from tldops.lists import moderation  # noqa: PLC0415

    held = post(message(sender="guest@elsewhere.example", subject="[TLP:AMBER] x", body="x"))
    assert held.status == Post.Status.HELD
    held.person = community.ana  # as if Ana's forged post had been held for its sender check
    held.sender_authentic = False
    held.save()
    moderation.approve(held, actor=Actor.of(community.sec, "web"))
    assert not Alert.objects.exists()
    assert list_message()["Subject"] == "[TLD-OPS] [TLP:AMBER] x"
