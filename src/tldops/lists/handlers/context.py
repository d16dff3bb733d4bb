"""What every handler is given: :class:`HandlerContext`, the post and the list's settings, read once.

In a module of its own so that the handler modules and the package that lists them import it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import parseaddr

from django.conf import settings

from tldops.directory.models import Person
from tldops.lists.models import Post


@dataclass(frozen=True)
class HandlerContext:
    """The post being prepared and the list's settings, read once. ``post`` is ``None`` for the
    list's own mail (a digest: :meth:`for_list_mail`), which only the header and signing
    handlers are given."""

    post: Post | None
    person: Person | None
    author: str  # the original From address
    author_name: str
    list_name: str
    list_address: str
    list_id: str
    subject_tag: str
    reply_to_policy: str  # none | list | author
    footer: str
    archive_url: str
    # Given by another app for this post (tldops.mail.community.Verdict): put after the list's
    # tag in the subject (``[TLP:AMBER]``), and above the text.
    subject_label: str = ""
    banner: str = ""

    @property
    def request_address(self) -> str:
        local, _at, domain = self.list_address.rpartition("@")
        return f"{local}-request@{domain}"

    @property
    def owner_address(self) -> str:
        local, _at, domain = self.list_address.rpartition("@")
        return f"{local}-owner@{domain}"

    @classmethod
    def build(
        cls, post: Post, msg: EmailMessage, *, subject_label: str = "", banner: str = ""
    ) -> HandlerContext:
        name, address = parseaddr(str(msg.get("From", "")))
        return replace(
            cls.for_list_mail(),
            post=post,
            person=post.person,
            author=address or post.sender,
            author_name=name or post.sender_name,
            subject_label=subject_label,
            banner=banner,
        )

    @classmethod
    def for_list_mail(cls) -> HandlerContext:
        """The list's settings for mail the list writes itself (digests): no post, no author.
        :meth:`build` adds the post and its author to the same settings."""
        return cls(
            post=None,
            person=None,
            author="",
            author_name="",
            list_name=settings.LIST_NAME,
            list_address=settings.LIST_ADDRESS,
            list_id=settings.LIST_ID,
            subject_tag=settings.SUBJECT_TAG,
            reply_to_policy=settings.REPLY_TO_POLICY,
            footer=settings.LIST_FOOTER,
            archive_url=f"{settings.BASE_URL}/archive/",
        )
