"""The archive: storing, threading (late parents included), search on the real engine, mbox."""

from __future__ import annotations

import datetime as dt
import mailbox
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tldops.htmltext import html_to_text
from tldops.lists import archive
from tldops.lists.models import ArchivedMessage, Post
from tldops.mail.models import InboundMessage

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 10, 5, 9, 30, tzinfo=dt.UTC)


def make_msg(
    subject: str = "DNSSEC key rollover",
    body: str = "We roll our KSK next week.",
    mid: str = "<a@nic.fr>",
    reply_to: str | None = None,
    references: list[str] | None = None,
    sender: str = "ana@nic.fr",
    date: dt.datetime = WHEN,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Ana Lopez <{sender}>"
    msg["To"] = "tld-ops@tldops.localhost"
    msg["Subject"] = subject
    msg["Message-ID"] = mid
    msg["Date"] = date.strftime("%a, %d %b %Y %H:%M:%S +0000")
    if reply_to:
        msg["In-Reply-To"] = reply_to
    if references:
        msg["References"] = " ".join(references)
    msg.set_content(body)
    return msg


def make_post(msg: EmailMessage, received: dt.datetime = WHEN) -> Post:
    inbound = InboundMessage.objects.create(
        mail_from=msg["From"].addresses[0].addr_spec, rcpt_to=["tld-ops@x"], raw=msg.as_bytes()
    )
    post = Post.objects.create(
        inbound=inbound,
        message_id=msg["Message-ID"],
        sender=msg["From"].addresses[0].addr_spec,
        sender_name=msg["From"].addresses[0].display_name,
        subject=str(msg["Subject"]),
        size=len(msg.as_bytes()),
        status=Post.Status.ACCEPTED,
    )
    Post.objects.filter(pk=post.pk).update(received_at=received)
    post.refresh_from_db()
    return post


def archive_msg(**kw) -> ArchivedMessage:
    msg = make_msg(**kw)
    return archive.archive_post(make_post(msg, received=kw.get("date", WHEN)), msg)


def test_archive_post_stores_fields_and_strips_tag(settings):
    entry = archive_msg(subject=f"{settings.SUBJECT_TAG} Re: RE: DNSSEC key rollover")
    assert entry.message_id == "<a@nic.fr>"
    assert entry.subject == "Re: DNSSEC key rollover"
    assert entry.author_email == "ana@nic.fr"
    assert entry.author_name == "Ana Lopez"
    assert entry.date == WHEN
    assert "roll our KSK" in entry.body_text
    assert entry.thread_root_id == entry.pk and entry.parent is None
    assert b"Message-ID: <a@nic.fr>" in bytes(entry.raw)


def test_archive_post_is_idempotent():
    msg = make_msg()
    post = make_post(msg)
    first = archive.archive_post(post, msg)
    again = archive.archive_post(post, msg)
    assert first.pk == again.pk
    assert ArchivedMessage.objects.count() == 1


def test_duplicate_or_missing_message_id_gets_own_id():
    archive_msg(mid="<same@x>")
    second = archive_msg(mid="<same@x>", subject="other")
    assert second.message_id.startswith("<tldops-post-")
    msg = make_msg()
    del msg["Message-ID"]
    post = make_post(make_msg(mid="<tmp@x>"))
    third = archive.archive_post(post, msg)
    assert third.message_id == "<tmp@x>"  # falls back to the post's recorded id


def test_implausible_date_uses_receipt_time():
    msg = make_msg(date=dt.datetime(1999, 1, 1, tzinfo=dt.UTC))
    entry = archive.archive_post(make_post(msg, received=WHEN), msg)
    assert entry.date == WHEN


def test_threading_by_in_reply_to_and_references():
    root = archive_msg(mid="<r@x>")
    a = archive_msg(mid="<a1@x>", reply_to="<r@x>", references=["<r@x>"])
    b = archive_msg(mid="<b1@x>", reply_to="<a1@x>", references=["<r@x>", "<a1@x>"])
    # A reply whose direct parent was never archived still joins via References.
    c = archive_msg(mid="<c1@x>", reply_to="<lost@x>", references=["<r@x>", "<lost@x>"])
    for m in (a, b, c):
        m.refresh_from_db()
    assert a.parent == root and b.parent == a and c.parent == root
    assert {m.thread_root_id for m in (a, b, c)} == {root.pk}
    order = [(m.message_id, depth) for m, depth in archive.thread(root)]
    assert order == [("<r@x>", 0), ("<a1@x>", 1), ("<b1@x>", 2), ("<c1@x>", 1)]


def test_late_parent_adopts_earlier_replies():
    """A reply archived before its parent (held for moderation) is re-threaded when it arrives."""
    child = archive_msg(mid="<child@x>", reply_to="<mid@x>", references=["<top@x>", "<mid@x>"])
    grandchild = archive_msg(
        mid="<gc@x>", reply_to="<child@x>", references=["<top@x>", "<mid@x>", "<child@x>"]
    )
    grandchild.refresh_from_db()
    assert grandchild.thread_root_id == child.pk
    middle = archive_msg(mid="<mid@x>", reply_to="<top@x>", references=["<top@x>"])
    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert child.parent_id == middle.pk
    assert child.thread_root_id == middle.pk == grandchild.thread_root_id
    top = archive_msg(mid="<top@x>")
    for m in (middle, child, grandchild):
        m.refresh_from_db()
    assert middle.parent_id == top.pk
    assert {m.thread_root_id for m in (top, middle, child, grandchild)} == {top.pk}
    assert [m.message_id for m, _ in archive.thread(top)] == [
        "<top@x>",
        "<mid@x>",
        "<child@x>",
        "<gc@x>",
    ]
    assert list(archive.threads()) == [top]


def test_threads_and_months():
    archive_msg(mid="<o@x>", date=WHEN)
    archive_msg(mid="<o2@x>", reply_to="<o@x>", references=["<o@x>"], date=WHEN)
    nov = WHEN + dt.timedelta(days=40)
    archive_msg(mid="<n@x>", date=nov)
    assert archive.months() == [(2026, 11, 1), (2026, 10, 2)]
    october = list(archive.threads(year=2026, month=10))
    assert [t.message_id for t in october] == ["<o@x>"]
    assert october[0].message_count == 2


def test_body_text_and_attachments():
    msg = make_msg(body="See the attached zone file.")
    msg.add_alternative("<p>See the <b>attached</b> zone&amp;file.</p>", subtype="html")
    msg.add_attachment(b"$ORIGIN fr.\n", maintype="text", subtype="dns", filename="../fr.zone")
    msg.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="report.pdf"
    )
    entry = archive.archive_post(make_post(msg), msg)
    assert entry.body_text.strip() == "See the attached zone file."
    files = [(a.filename, a.content_type, bytes(a.data), a.size) for a in entry.attachments.all()]
    assert files == [
        ("fr.zone", "text/dns", b"$ORIGIN fr.\n", 12),
        ("report.pdf", "application/pdf", b"%PDF-1.4 fake", 13),
    ]


def test_html_only_body_is_stripped():
    msg = make_msg()
    msg.set_content("<p>Hello&nbsp;<b>all</b></p><script>x()</script>", subtype="html")
    entry = archive.archive_post(make_post(msg), msg)
    assert entry.body_text == "Hello all"


def test_html_to_text_keeps_what_a_reader_sees():
    markup = (
        "<html><head><title>Mail</title><style>p > b { color: red }</style></head><body>"
        "<!-- a comment > with a bracket --><div>Line one</div><div>Line two<br/>three</div>"
        "<p title='1 < 2'>A&amp;B &lt;tag&gt; <a href='https://cert.example/adv-1'>advisory</a>"
        "</p><pre>  dig +dnssec\n    fr. SOA</pre><ul><li>first</li><li>second</li></ul>"
        "<script>document.write('hidden')</script><noscript>shown</noscript></body></html>"
    )
    assert html_to_text(markup) == (
        "Line one\nLine two\nthree\n\nA&B <tag> advisory <https://cert.example/adv-1>\n\n"
        "  dig +dnssec\n    fr. SOA\n\nfirst\nsecond\n\nshown"
    )
    # Unclosed or stray tags hide nothing a reader would see, and show nothing hidden.
    assert html_to_text("<title>unclosed<body><p>visible</p>") == "visible"
    assert html_to_text("<p>before</p><script>never closed <p>x") == "before"
    assert html_to_text("</p></div>just text</a>") == "just text"


def test_body_text_reads_every_inline_part_and_one_version_of_an_alternative():
    msg = make_msg(body="Plain version.")
    msg.add_alternative("<p>HTML version.</p>", subtype="html")
    msg.make_mixed()
    footer = EmailMessage()
    footer.set_content("-- \nMembers only.\n", disposition="inline")
    msg.attach(footer)
    assert archive.body_text(msg) == "Plain version.\n\n-- \nMembers only."
    # An alternative without a plain version (HTML with its images) is read as HTML.
    html_only = make_msg()
    html_only.set_content("<p>Only <i>HTML</i>.</p>", subtype="html")
    html_only.add_related(b"\x89PNG", maintype="image", subtype="png", cid="<logo@x>")
    html_only.make_alternative()
    html_only.make_mixed()
    html_only.attach(footer)
    assert archive.body_text(html_only) == "Only HTML.\n\n-- \nMembers only."


def test_search_uses_the_database_engine():
    """Words anywhere in subject/body, all required; stemming (rollover/rollovers); ranked."""
    archive_msg(mid="<1@x>", subject="KSK rollovers planned", body="For .fr on Monday.")
    archive_msg(mid="<2@x>", subject="Lunch", body="Anyone for lunch at the meeting?")
    archive_msg(mid="<3@x>", subject="Question", body="Has anyone done a KSK rollover yet?")
    found = [m.message_id for m in archive.search("rollover ksk")]
    assert sorted(found) == ["<1@x>", "<3@x>"]
    assert [m.message_id for m in archive.search("lunch")] == ["<2@x>"]
    assert archive.search("rollover lunch") == []
    assert archive.search("") == [] and archive.search('"*:)') == []
    # Query syntax characters are harmless.
    assert [m.message_id for m in archive.search('ksk" OR NEAR(lunch')] == []
    if connection.vendor == "sqlite" and archive._has_fts_table():  # not under --no-migrations
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM lists_archive_fts")
            assert cur.fetchone()[0] == 3
    elif connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'lists_archive_fts_gin'")
            (indexdef,) = cur.fetchone()
            assert "gin" in indexdef.lower()


@pytest.mark.parametrize(
    "query",
    [
        "rollover OR ksk",
        "rollover or ksk",
        "rollover AND ksk",
        "NOT rollover ksk",
        "NEAR(rollover ksk)",
        'rollover "ksk"',
        "-rollover +ksk",
        "rollover* ksk*",
        "(rollover) | (ksk)",
        "rollover: ksk~ {}^",
    ],
)
def test_operators_in_a_query_are_plain_separators_or_dropped(query):
    """Operators are documented as ignored: on every engine, the query finds what its words do."""
    archive_msg(mid="<1@x>", subject="KSK rollovers planned", body="For .fr on Monday.")
    archive_msg(mid="<2@x>", subject="Lunch", body="Anyone for lunch, or a KSK talk?")
    archive_msg(mid="<3@x>", subject="Question", body="Has anyone done a KSK rollover, or not?")
    assert sorted(m.message_id for m in archive.search(query)) == ["<1@x>", "<3@x>"]
    assert archive.search("OR") == [] and archive.search("NOT AND") == []


def test_reindex_drops_the_footer_an_older_archive_indexed(settings):
    entry = archive_msg(mid="<old@x>", body="Our KSK rolls on Monday.")
    footed = entry.body_text + "\n\n-- \nMembers only: do not forward outside the community."
    ArchivedMessage.objects.filter(pk=entry.pk).update(body_text=footed)  # as archived before
    right = archive_msg(mid="<new@x>", body="Nothing to see.")
    assert [m.pk for m in archive.search("community")] == [entry.pk]

    assert archive.reindex() == 1
    entry.refresh_from_db()
    assert entry.body_text == "Our KSK rolls on Monday."
    assert archive.search("community") == [] and archive.search("forward") == []
    assert [m.pk for m in archive.search("monday ksk")] == [entry.pk]
    assert archive.reindex() == 0  # already right: a second run (after a crash) changes nothing
    assert ArchivedMessage.objects.get(pk=right.pk).body_text == "Nothing to see."


def test_reindex_command(capsys):
    entry = archive_msg(mid="<old@x>", body="Our KSK rolls on Monday.")
    ArchivedMessage.objects.filter(pk=entry.pk).update(body_text="-- \nfooter words")
    call_command("list", "reindex")
    assert "1 archived post(s)" in capsys.readouterr().out
    assert ArchivedMessage.objects.get(pk=entry.pk).body_text == "Our KSK rolls on Monday."


@pytest.mark.django_db(transaction=True)
def test_the_migration_reindexes_an_archive_made_before_it():
    executor = MigrationExecutor(connection)
    before = [("lists", "0008_digests")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        msg = make_msg(mid="<m@x>", body="Our KSK rolls on Monday.")
        inbound = old.get_model("mail", "InboundMessage").objects.create(
            mail_from="ana@nic.fr", raw=msg.as_bytes()
        )
        post = old.get_model("lists", "Post").objects.create(
            inbound=inbound, message_id="<m@x>", sender="ana@nic.fr", status="accepted"
        )
        old.get_model("lists", "ArchivedMessage").objects.create(
            post=post, message_id="<m@x>", author_email="ana@nic.fr", date=WHEN, raw=b"",
            body_text="Our KSK rolls on Monday.\n\n-- \nDo not forward outside the community.",
        )  # fmt: skip
    finally:  # whatever happens, the later tests need the whole schema back
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert ArchivedMessage.objects.get().body_text == "Our KSK rolls on Monday."
    assert archive.search("community") == []


def test_search_index_follows_updates_and_deletes():
    entry = archive_msg(mid="<u@x>", subject="Original words", body="nothing")
    assert archive.search("original")
    ArchivedMessage.objects.filter(pk=entry.pk).update(subject="Replaced subject")
    entry.refresh_from_db()
    entry.save()  # a full save through the ORM too
    assert archive.search("original") == []
    assert [m.pk for m in archive.search("replaced")] == [entry.pk]
    entry.delete()
    assert archive.search("replaced") == []


def test_export_mbox_round_trips(tmp_path):
    root = archive_msg(mid="<r@x>", body="From the start\nline two")
    archive_msg(mid="<a@x>", reply_to="<r@x>", references=["<r@x>"], body="A reply")
    data = archive.export_mbox(m for m, _ in archive.thread(root))
    path = tmp_path / "t.mbox"
    path.write_bytes(data)
    box = mailbox.mbox(str(path))
    items = list(box)
    assert [m["Message-ID"] for m in items] == ["<r@x>", "<a@x>"]
    assert items[0].get_from().startswith("ana@nic.fr Mon Oct  5 09:30:00 2026")
    assert data.startswith(b"From ana@nic.fr ")
    assert b"\n>From the start" in data  # body line quoted, mbox stays parseable
    assert items[1].get_payload(decode=True) == b"A reply\n"


def test_month_messages_bounds():
    archive_msg(mid="<e@x>", date=dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC))
    archive_msg(mid="<f@x>", date=dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.UTC))
    with timezone.override("UTC"):
        assert [m.message_id for m in archive.month_messages(2026, 10)] == ["<e@x>"]
