"""The mail core, beneath every capability: what any app needs to receive, judge and send mail.

The SMTP/LMTP intake and its routing table (:mod:`~tldops.mail.intake`: apps add their addresses
when they start), the inbound store and the outbox (:mod:`~tldops.mail.models`,
:mod:`~tldops.mail.outbox`), the pipelining SMTP client (:mod:`~tldops.mail.smtpclient`), VERP
addresses (:mod:`~tldops.mail.verp`), sender verification (:mod:`~tldops.mail.senderauth`),
header hygiene (:mod:`~tldops.mail.headers`), DNS look-ups (:mod:`~tldops.mail.dns`), the reading
of received mail (:mod:`~tldops.mail.parsing`) and of delivery reports (:mod:`~tldops.mail.dsn`).
No module here imports an app.
"""
