"""The members-only archive of the list: storing, threading, searching and exporting posts.

Every accepted post is archived once, as distributed (:func:`archive_post`, called by the pipeline
and by moderation's approve in the same transaction as the fan-out). What is kept:

- the raw bytes as distributed (for mbox export: :func:`export_mbox`), the text body as the author
  wrote it (for reading and search: :func:`written_text`, without the list's footer, whose words
  would otherwise match every post) and every attachment as its own row (for download);
- the thread: a message's ``parent`` is the nearest ancestor named by its ``In-Reply-To`` /
  ``References`` headers that is in the archive, and ``thread_root`` the top of that chain (a root
  points at itself). A parent that arrives *after* its replies (held for moderation, say) adopts
  them when it is archived: :func:`_adopt_orphans`.

Search (:func:`search`) uses the database's own full-text engine: an SQLite FTS5 table kept in step
by triggers, or a PostgreSQL GIN index over ``to_tsvector`` — both created by migration
``0003_archive_search``. Where neither exists (tests run without migrations) it falls back to a
plain substring match, so callers never need to care.
"""

from __future__ import annotations

import datetime as dt
import email
import email.generator
import email.policy
import io
import mailbox
import os
import re
from collections.abc import Iterable, Iterator
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tldops.htmltext import html_to_text
from tldops.lists.models import ArchivedMessage, Attachment, Post
from tldops.mail.headers import storable

MSGID_RE = re.compile(r"<[^<>\s]+>")
# Text-search configuration shared with migration 0003 (the GIN index is over this expression).
PG_TS_CONFIG = "english"
FTS_TABLE = "lists_archive_fts"


# --- Archiving -------------------------------------------------------------------------------------


def archive_post(post: Post, msg: Message) -> ArchivedMessage:
    """Archive ``msg`` (the post as distributed) and thread it; return its archive entry.

    Idempotent: a post already archived returns its existing entry. Runs inside the caller's
    transaction, so a post is archived exactly when it is distributed.
    """
    existing = ArchivedMessage.objects.filter(post=post).first()
    if existing is not None:
        return existing

    message_id = _first_msgid(str(msg.get("Message-ID", ""))) or _first_msgid(post.message_id)
    if not message_id or ArchivedMessage.objects.filter(message_id=message_id).exists():
        # No Message-ID, or the same one approved twice: give this copy its own stable id.
        message_id = f"<tldops-post-{post.pk}@{settings.MAIL_DOMAIN}>"
    in_reply_to = _first_msgid(str(msg.get("In-Reply-To", "")))
    references = MSGID_RE.findall(str(msg.get("References", "")))
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    references = [r for r in references if r != message_id]

    author_name, author_email = _author(post, msg)
    entry = ArchivedMessage.objects.create(
        post=post,
        message_id=message_id,
        in_reply_to=in_reply_to or "",
        references=references,
        subject=storable(clean_subject(str(msg.get("Subject", "")) or post.subject)),
        author_name=storable(author_name),
        author_email=storable(author_email),
        date=_date(msg, post),
        body_text=storable(written_text(post, msg)),
        raw=_raw(msg, post),
    )
    for filename, content_type, data in attachments_of(msg):
        Attachment.objects.create(
            message=entry,
            filename=storable(filename),
            content_type=storable(content_type),
            size=len(data),
            data=data,
        )

    parent = _nearest_ancestor(entry)
    entry.parent = parent
    entry.thread_root = (parent.thread_root or parent) if parent else entry
    entry.save(update_fields=["parent", "thread_root"])
    _adopt_orphans(entry)
    return entry


def written_text(post: Post, msg: Message | None = None) -> str:
    """The text of ``post`` as its author wrote it: read from the message as we received it
    (``post.inbound``), before the list's handlers decorated it, so the archive never reads nor
    indexes the footer the list appends to every copy; ``msg`` (the distributed copy) only when
    the received bytes are gone."""
    raw = bytes(post.inbound.raw) if post.inbound_id else b""
    if raw:
        return text_of_raw(raw)
    return body_text(msg) if msg is not None else ""


def text_of_raw(raw: bytes) -> str:
    """:func:`body_text` of a message's raw bytes (the received post's, for the archive)."""
    return body_text(email.message_from_bytes(bytes(raw), policy=email.policy.default))


#: Archived messages read again at a time by :func:`reindex` (their received bytes are read too).
REINDEX_BATCH = 16


def reindex(model: type[ArchivedMessage] = ArchivedMessage) -> int:
    """Read every archived post's text again from the post as received (:func:`written_text`)
    and store it where it changed; the search index follows (SQLite triggers, PostgreSQL's
    expression index). Returns how many changed.

    Crash-safe and resumable: rows are read :data:`REINDEX_BATCH` at a time in id order, each
    batch is written in its own transaction, and a row already right is left alone, so running it
    again after an interruption only does what is left. ``model`` is the historical model when a
    migration calls it (``lists.0009``), so it reads only columns that exist at that point."""
    changed, last = 0, 0
    while True:
        rows = list(
            model.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "body_text", "post__inbound__raw")[:REINDEX_BATCH]
        )
        if not rows:
            return changed
        with transaction.atomic():
            for pk, stored, raw in rows:
                if not raw:
                    continue
                text = storable(text_of_raw(bytes(raw)))
                if text != stored:
                    model.objects.filter(pk=pk).update(body_text=text)
                    changed += 1
        last = rows[-1][0]


def _raw(msg: Message, post: Post) -> bytes:
    """The message as distributed; the bytes received if it cannot be serialised again."""
    try:
        return msg.as_bytes(policy=email.policy.SMTP.clone(linesep="\n"))
    except (ValueError, TypeError, LookupError, UnicodeError):
        return bytes(post.inbound.raw)


def _first_msgid(value: str) -> str:
    found = MSGID_RE.search(value or "")
    return found.group(0) if found else ""


def _author(post: Post, msg: Message) -> tuple[str, str]:
    """The real author: the post's sender (From may have been rewritten for DMARC)."""
    if post.sender:
        name = post.sender_name
        if not name:
            pairs = getaddresses([str(msg.get("From", ""))])
            if pairs and pairs[0][1].lower() == post.sender.lower():
                name = pairs[0][0]
        return name[:300], post.sender[:320]
    pairs = getaddresses([str(msg.get("From", ""))])
    name, addr = pairs[0] if pairs else ("", "")
    return name[:300], addr[:320]


def _date(msg: Message, post: Post) -> dt.datetime:
    """The Date header when it is plausible; else when we received the post."""
    received = post.received_at or timezone.now()
    try:
        value = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        value = None
    if value is None:
        return received
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    # A sender's clock far off (or a forged date) would misplace the post in the monthly index.
    if abs(value - received) > dt.timedelta(days=7):
        return received
    return value


def clean_subject(subject: str) -> str:
    """Drop the list tag and any run of ``Re:``/``Fwd:`` noise before it, for display and threads."""
    text = " ".join(str(subject).split())
    tag = settings.SUBJECT_TAG
    if tag:
        text = text.replace(tag, " ")
    text = " ".join(text.split())
    reply = ""
    while True:
        m = re.match(r"(?i)^(re|aw|sv|fwd?|tr)\s*:\s*", text)
        if not m:
            break
        if m.group(1).lower() in ("re", "aw", "sv"):
            reply = "Re: "
        text = text[m.end() :]
    return (reply + text)[:998]


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    if part.get_filename():
        return True
    return part.get_content_maintype() not in ("text", "multipart", "message")


def body_text(msg: Message) -> str:
    """The readable text of a message, for reading and search, in the order it is shown.

    Every inline text part counts, not only the text/plain ones: the footer handler adds the
    footer as a text/plain part to an HTML-only post, and reading only the plain parts kept the
    footer alone. Of a ``multipart/alternative`` one version is read, the plain one if there is
    one; HTML is reduced to its visible text (:func:`tldops.htmltext.html_to_text`).
    """
    texts = [t.strip("\n") for t in _texts(msg)]
    return "\n\n".join(t for t in texts if t.strip()).replace("\r\n", "\n")


def _texts(part: Message) -> list[str]:
    if part.is_multipart():
        children = [p for p in part.get_payload() if isinstance(p, Message)]
        if part.get_content_type() == "multipart/alternative":
            # RFC 2046: the versions say the same; the archive keeps text, so plain comes first.
            versions = [(c.get_content_type(), _texts(c)) for c in children]
            readable = [(ctype, texts) for ctype, texts in versions if "".join(texts).strip()]
            plain = [texts for ctype, texts in readable if ctype == "text/plain"]
            return (plain or [texts for _c, texts in readable] or [[]])[0]
        return [text for child in children for text in _texts(child)]
    if _is_attachment(part):
        return []
    ctype = part.get_content_type()
    if ctype == "text/plain":
        return [_decode(part)]
    if ctype == "text/html":
        return [html_to_text(_decode(part))]
    return []


def _decode(part: Message) -> str:
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def attachments_of(msg: Message) -> list[tuple[str, str, bytes]]:
    """``(filename, content type, bytes)`` of every attachment; unnamed ones get a made-up name."""
    return list(iter_attachments(msg))


def iter_attachments(msg: Message) -> Iterator[tuple[str, str, bytes]]:
    """:func:`attachments_of` one at a time, so a caller that keeps only sizes holds one in memory."""
    if not msg.is_multipart():
        return
    for index, part in enumerate(msg.walk()):
        if not _is_attachment(part):
            continue
        data = part.get_payload(decode=True) or b""
        name = part.get_filename() or f"attachment-{index}"
        name = os.path.basename(name.replace("\\", "/")).strip() or f"attachment-{index}"
        yield name[:255], part.get_content_type()[:127], data


# --- Threading -------------------------------------------------------------------------------------


def _nearest_ancestor(entry: ArchivedMessage) -> ArchivedMessage | None:
    """The closest archived message among those ``entry`` replies to (References, newest last)."""
    ids = list(entry.references)
    if not ids:
        return None
    known = {
        m.message_id: m
        for m in ArchivedMessage.objects.filter(message_id__in=ids).exclude(pk=entry.pk)
    }
    for mid in reversed(ids):
        if mid in known:
            return known[mid]
    return None


def _adopt_orphans(entry: ArchivedMessage) -> None:
    """Re-thread messages that named ``entry`` as an ancestor but were archived before it."""
    candidates = ArchivedMessage.objects.filter(
        Q(in_reply_to=entry.message_id) | Q(references__icontains=entry.message_id)
    ).exclude(pk=entry.pk)
    changed_roots: set[int] = set()
    for reply in candidates:
        if entry.message_id not in reply.references:
            continue
        nearest = _nearest_ancestor(reply)
        if nearest is not None and nearest.pk != (reply.parent_id or 0):
            changed_roots.add(reply.thread_root_id or reply.pk)
            reply.parent = nearest
            reply.save(update_fields=["parent"])
    for root_id in changed_roots:
        _recompute_roots(root_id)


def _recompute_roots(old_root_id: int) -> None:
    """Give every message of a (former) thread the root found by following its parents."""
    members = list(
        ArchivedMessage.objects.filter(Q(thread_root_id=old_root_id) | Q(pk=old_root_id))
    )
    for m in members:
        root, seen = m, {m.pk}
        while root.parent_id and root.parent_id not in seen:
            seen.add(root.parent_id)
            root = ArchivedMessage.objects.get(pk=root.parent_id)
        if m.thread_root_id != root.pk:
            ArchivedMessage.objects.filter(pk=m.pk).update(thread_root=root)


def thread(root: ArchivedMessage) -> list[tuple[ArchivedMessage, int]]:
    """The messages of ``root``'s thread in reading order, each with its reply depth (root = 0)."""
    root = root.thread_root or root
    messages = list(thread_messages(root))
    children: dict[int | None, list[ArchivedMessage]] = {}
    ids = {m.pk for m in messages}
    for m in messages:
        key = m.parent_id if m.parent_id in ids and m.pk != root.pk else None
        if m.pk == root.pk:
            continue
        children.setdefault(key if key is not None else root.pk, []).append(m)
    ordered: list[tuple[ArchivedMessage, int]] = []
    stack: list[tuple[ArchivedMessage, int]] = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if node.pk in seen:
            continue
        seen.add(node.pk)
        ordered.append((node, depth))
        for child in reversed(children.get(node.pk, [])):
            stack.append((child, depth + 1))
    return ordered


def thread_messages(entry: ArchivedMessage) -> QuerySet[ArchivedMessage]:
    """Every message of ``entry``'s thread, oldest first (unthreaded: for export)."""
    root_id = entry.thread_root_id or entry.pk
    return ArchivedMessage.objects.filter(Q(thread_root_id=root_id) | Q(pk=root_id)).order_by(
        "date", "id"
    )


def threads(*, year: int | None = None, month: int | None = None) -> QuerySet[ArchivedMessage]:
    """Thread roots, newest thread first, optionally those started in one month."""
    roots = ArchivedMessage.objects.filter(thread_root_id=F("pk"))
    if year is not None:
        roots = roots.filter(date__year=year)
    if month is not None:
        roots = roots.filter(date__month=month)
    return roots.annotate(
        message_count=Count("thread_messages", distinct=True),
        last_date=Max("thread_messages__date"),
    ).order_by("-date", "-id")


def months() -> list[tuple[int, int, int]]:
    """``(year, month, number of messages)`` for every month with posts, newest first."""
    rows = (
        ArchivedMessage.objects.annotate(m=TruncMonth("date"))
        .values("m")
        .annotate(n=Count("id"))
        .order_by("-m")
    )
    return [(r["m"].year, r["m"].month, r["n"]) for r in rows if r["m"] is not None]


def month_messages(year: int, month: int) -> QuerySet[ArchivedMessage]:
    return ArchivedMessage.objects.filter(date__year=year, date__month=month).order_by("date", "id")


# --- Search ----------------------------------------------------------------------------------------


#: Words the search engines read as operators (SQLite FTS5: AND, OR, NOT, NEAR; PostgreSQL's
#: websearch syntax: or). Search ignores operators, as docs/archive.md says: these are dropped
#: in any case, so that ``rollover OR ksk`` finds the posts with both words on either engine
#: instead of those that also contain the word "or" (the FTS5 query quotes every term).
OPERATOR_WORDS = frozenset({"and", "or", "not", "near"})


def _terms(q: str) -> list[str]:
    """The words of ``q`` that are searched: letters and digits only (quotes, ``-``, ``*``,
    parentheses, ``:`` and other syntax are separators), operator words dropped."""
    return [t for t in re.findall(r"[^\W_]+", q or "") if t.lower() not in OPERATOR_WORDS]


def search(q: str, *, limit: int = 50) -> list[ArchivedMessage]:
    """Messages matching every word of ``q`` (subject, author or body), best match first."""
    terms = _terms(q)
    if not terms:
        return []
    vendor = connection.vendor
    if vendor == "sqlite" and _has_fts_table():
        match = " ".join('"' + t.replace('"', "") + '"' for t in terms)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY rank LIMIT %s",
                [match, limit],
            )
            ids = [row[0] for row in cur.fetchall()]
        return _in_order(ids)
    if vendor == "postgresql":
        query = " ".join(terms)
        with connection.cursor() as cur:
            cur.execute(
                f"""
                SELECT id FROM lists_archivedmessage
                WHERE {PG_VECTOR_SQL} @@ plainto_tsquery('{PG_TS_CONFIG}', %s)
                ORDER BY ts_rank({PG_VECTOR_SQL}, plainto_tsquery('{PG_TS_CONFIG}', %s)) DESC,
                         date DESC
                LIMIT %s
                """,
                [query, query, limit],
            )
            ids = [row[0] for row in cur.fetchall()]
        return _in_order(ids)
    found = ArchivedMessage.objects.all()
    for t in terms:
        found = found.filter(
            Q(subject__icontains=t) | Q(body_text__icontains=t) | Q(author_name__icontains=t)
        )
    return list(found.order_by("-date")[:limit])


# The indexed expression; migration 0003 builds its GIN index over exactly this text.
PG_VECTOR_SQL = (
    f"to_tsvector('{PG_TS_CONFIG}'::regconfig, "
    "coalesce(subject, '') || ' ' || coalesce(author_name, '') || ' ' || coalesce(body_text, ''))"
)


def _has_fts_table() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE])
        return cur.fetchone() is not None


def _in_order(ids: list[int]) -> list[ArchivedMessage]:
    by_id = ArchivedMessage.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


# --- Export ----------------------------------------------------------------------------------------

#: Messages read from the database at a time while an mbox is streamed.
MBOX_BATCH = 16


def export_mbox(messages: Iterable[ArchivedMessage]) -> bytes:
    """The messages as one mbox file (``From `` lines, ``>From`` quoting), oldest first.

    For a few messages already in memory (tests, scripts); a download streams
    :func:`stream_mbox` instead, which gives the same bytes.
    """
    return b"".join(mbox_entry(m) for m in sorted(messages, key=lambda m: (m.date, m.pk)))


def stream_mbox(messages: QuerySet[ArchivedMessage]) -> Iterator[bytes]:
    """The messages of ``messages`` as mbox, oldest first, one message at a time.

    Only their ids are read up front; the raw bytes are fetched :data:`MBOX_BATCH` messages at a
    time, so exporting the whole archive holds a few messages in memory, never the archive.
    """
    ids = list(messages.order_by("date", "id").values_list("pk", flat=True))
    for start in range(0, len(ids), MBOX_BATCH):
        batch = ids[start : start + MBOX_BATCH]
        found = ArchivedMessage.objects.only("raw", "date", "author_email").in_bulk(batch)
        for pk in batch:
            if pk in found:  # deleted since the ids were read: skipped
                yield mbox_entry(found[pk])


def mbox_entry(m: ArchivedMessage) -> bytes:
    """One message as the standard library's :class:`mailbox.mbox` writes it (mboxo): its ``From``
    line, the message with body lines starting ``From `` quoted, and an empty line."""
    item = mailbox.mboxMessage(email.message_from_bytes(bytes(m.raw)))
    item.set_from(_mbox_sender(m.author_email), m.date.astimezone(dt.UTC).timetuple())
    buffer = io.BytesIO()
    email.generator.BytesGenerator(buffer, mangle_from_=True, maxheaderlen=0).flatten(item)
    data = buffer.getvalue()
    if not data.endswith(b"\n"):
        data += b"\n"
    return b"From " + item.get_from().encode("ascii") + b"\n" + data + b"\n"


def _mbox_sender(address: str) -> str:
    """The address of the ``From `` line: ASCII without spaces, or ``MAILER-DAEMON``."""
    if address and address.isascii() and not any(c.isspace() for c in address):
        return address
    return "MAILER-DAEMON"


def parse(raw: bytes) -> EmailMessage:
    """The stored raw bytes as a message (for headers shown on the message page)."""
    return email.message_from_bytes(bytes(raw), policy=email.policy.default)
