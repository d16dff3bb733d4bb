"""Set up the GNU Mailman 3 side of bench/list_delivery.py; run with the Mailman virtualenv's python.

    <venv>/bin/python bench/mailman/driver.py --config mailman.cfg --list tld-ops@bench.test \
        --members 1000 --domain bench.test

Creates the domain and the list (personalised delivery: ``personalize = individual``) and
subscribes ``member00000@<domain>`` … as verified addresses, straight through Mailman's own API
(the same objects ``mailman addmembers`` makes, without its per-address confirmation workflow).
Welcome and owner notices are off, so the only mail the sink sees is the post's copies. Nothing of
Mailman lives in this repository: list_delivery.py pip-installs ``mailman`` into a virtualenv of its
own and runs this file with that virtualenv's interpreter.
"""

from __future__ import annotations

import argparse
import time


def member_address(i: int, domain: str) -> str:
    return f"member{i:05d}@{domain}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the mailman.cfg to use")
    parser.add_argument("--list", required=True, help="the list's posting address")
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--domain", required=True, help="the members' mail domain")
    args = parser.parse_args()

    from mailman.core.initialize import initialize

    initialize(args.config)

    from mailman.app.lifecycle import create_list
    from mailman.config import config
    from mailman.interfaces.domain import IDomainManager
    from mailman.interfaces.mailinglist import Personalization
    from mailman.interfaces.member import MemberRole
    from mailman.interfaces.usermanager import IUserManager
    from mailman.utilities.datetime import now
    from zope.component import getUtility

    started = time.monotonic()
    list_domain = args.list.split("@", 1)[1]
    domains = getUtility(IDomainManager)
    if domains.get(list_domain) is None:
        domains.add(list_domain)
    mlist = create_list(args.list)
    mlist.personalize = Personalization.individual
    mlist.send_welcome_message = False
    mlist.admin_notify_mchanges = False
    users = getUtility(IUserManager)
    for i in range(args.members):
        address = users.create_address(member_address(i, args.domain), f"Member {i}")
        address.verified_on = now()
        mlist.subscribe(address, MemberRole.member)
    config.db.commit()
    print(f"mailman: {args.members} members subscribed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
