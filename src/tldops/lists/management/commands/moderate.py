"""``tldops moderate``: the moderation queue of the list on the command line."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tldops.cli import add_format_argument
from tldops.directory.management.common import cli_actor, error, no_rows, write_rows
from tldops.kernel.errors import DirectoryError
from tldops.lists import moderation
from tldops.lists.models import Post
from tldops.mail.parsing import body_text


def _row(post: Post) -> dict[str, object]:
    return {
        "id": post.pk,
        "received": post.received_at.strftime("%Y-%m-%d %H:%M"),
        "sender": post.sender,
        "member": "yes" if post.person_id else "no",
        "subject": post.subject,
        "size": post.size,
        "status": post.status,
        "reasons": [r.get("reason", "") for r in post.reasons],
    }


class Command(BaseCommand):
    help = (
        "Moderate the list: list the held posts, show one, approve it (it goes to the members), "
        "reject it with a reason (the sender is told), or discard it (the sender is told; "
        "--silent for spam: nobody is told)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

        p = sub.add_parser("list", help="List the posts waiting for moderation, oldest first.")
        p.add_argument(
            "--all", action="store_true", help="Every post, not only the held ones (newest first)."
        )
        add_format_argument(p)

        p = sub.add_parser("show", help="Show one post: who, why it was held, and its text.")
        p.add_argument("id", help="The post's number (from “moderate list”).")
        p.add_argument("--raw", action="store_true", help="Print the message as received.")

        p = sub.add_parser("approve", help="Send a held post to the members.")
        p.add_argument("id", help="The post's number.")

        p = sub.add_parser("reject", help="Refuse a held post; the sender receives the reason.")
        p.add_argument("id", help="The post's number.")
        p.add_argument("--reason", required=True, help="Why, as the sender will read it.")

        p = sub.add_parser("discard", help="Drop a held post; the sender is told it was not sent.")
        p.add_argument("id", help="The post's number.")
        p.add_argument(
            "--silent",
            action="store_true",
            help="Tell nobody (spam: an answer would reach a forged address or confirm a live one).",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except DirectoryError as exc:
            raise error(exc) from None

    def do_list(self, options: dict) -> None:
        # Summary columns only (moderation.listing): a list never loads nor parses a raw message.
        if options["all"]:
            posts = moderation.listing(Post.objects.order_by("-received_at", "-id"))
        else:
            posts = moderation.held_posts()
        rows = [_row(p) for p in posts.iterator(chunk_size=500)]
        columns = ["id", "received", "sender", "member", "subject", "size", "status", "reasons"]
        if not rows and no_rows(self, options["format"], _("No post is waiting for moderation.")):
            return
        write_rows(self, rows, columns, options["format"], title=_("Held posts"))

    def do_show(self, options: dict) -> None:
        post = moderation.get_post(options["id"])
        if options["raw"]:
            raw = bytes(post.inbound.raw).decode("utf-8", "replace")
            self.stdout.write(raw, ending="" if raw.endswith("\n") else "\n")
            return
        row = _row(post)
        for key in ("id", "status", "received", "sender", "member", "subject", "size"):
            self.stdout.write(f"{key.title():<9} {row[key]}")
        if post.sender_name:
            self.stdout.write(f"{'Name':<9} {post.sender_name}")
        for reason in row["reasons"]:
            self.stdout.write(f"{'Reason':<9} {reason}")
        if post.decided_at:
            by = post.decided_by.email if post.decided_by else post.decision_door
            self.stdout.write(f"{'Decided':<9} {post.decided_at:%Y-%m-%d %H:%M} by {by}")
        if post.decision_reason:
            self.stdout.write(f"{'Why':<9} {post.decision_reason}")
        self.stdout.write("")
        self.stdout.write(body_text(moderation.original_message(post)))

    def do_approve(self, options: dict) -> None:
        post = moderation.approve(moderation.get_post(options["id"]), actor=cli_actor())
        self.stdout.write(
            _("Post %(pk)s approved: %(n)d copies queued.")
            % {"pk": post.pk, "n": post.outbound.deliveries.count() if post.outbound else 0}
        )

    def do_reject(self, options: dict) -> None:
        post = moderation.reject(
            moderation.get_post(options["id"]), options["reason"], actor=cli_actor()
        )
        self.stdout.write(_("Post %(pk)s rejected; the sender is told why.") % {"pk": post.pk})

    def do_discard(self, options: dict) -> None:
        post = moderation.discard(
            moderation.get_post(options["id"]), actor=cli_actor(), silent=options["silent"]
        )
        if options["silent"]:
            self.stdout.write(_("Post %(pk)s discarded silently.") % {"pk": post.pk})
        else:
            self.stdout.write(_("Post %(pk)s discarded; the sender is told.") % {"pk": post.pk})
