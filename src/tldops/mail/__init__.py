"""The mail core, beneath every capability: what any app needs to receive, judge and send mail.

So far: sender verification (:mod:`~tldops.mail.senderauth`), reading and writing header values
(:mod:`~tldops.mail.headers`), reading received mail (:mod:`~tldops.mail.parsing`), DNS look-ups
(:mod:`~tldops.mail.dns`), VERP addresses (:mod:`~tldops.mail.verp`) and the pipelining SMTP client
(:mod:`~tldops.mail.smtpclient`). The intake, the outbox and their models follow from ``lists``
(issue 8); no module here imports an app.
"""
