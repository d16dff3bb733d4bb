"""The kernel: what every app may use and that uses no app — the errors written for people
(:mod:`~tldops.kernel.errors`), the audit log as every app writes to it
(:mod:`~tldops.kernel.audit`) and the progress bar of long work (:mod:`~tldops.kernel.progress`).
The mail core beside it is :mod:`tldops.mail`.
"""
