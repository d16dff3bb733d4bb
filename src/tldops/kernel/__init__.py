"""The kernel: what every app may use and that uses no app — the errors written for people
(:mod:`~tldops.kernel.errors`) and the progress bar of long work (:mod:`~tldops.kernel.progress`).
The mail core, audit and the rest of issue 8's moves come here next (see ``tests/test_layers.py``).
"""
