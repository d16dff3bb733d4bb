"""The list headers: List-Id (RFC 2919), List-Post/-Help/-Owner/-Archive/-Unsubscribe (RFC 2369),
``Precedence: list`` (auto-responders stay quiet) and ``X-Loop`` (our loop rule recognises it)."""

from __future__ import annotations

from email.message import EmailMessage

from tldops.lists.handlers.context import HandlerContext


def headers(ctx: HandlerContext) -> dict[str, str]:
    return {
        "List-Id": f"{ctx.list_name} <{ctx.list_id}>",
        "List-Post": f"<mailto:{ctx.list_address}>",
        "List-Help": f"<mailto:{ctx.request_address}?subject=help>",
        "List-Owner": f"<mailto:{ctx.owner_address}>",
        "List-Archive": f"<{ctx.archive_url}>",
        "List-Unsubscribe": f"<mailto:{ctx.request_address}?subject=unsubscribe>",
        "Precedence": "list",
        "X-Loop": ctx.list_address,
    }


def process(msg: EmailMessage, ctx: HandlerContext) -> None:
    for name, value in headers(ctx).items():
        del msg[name]
        msg[name] = value
