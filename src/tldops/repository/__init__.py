"""The monthly contact repository and the reachability checks (SPEC capability 3).

- :mod:`.snapshot` reads the directory into one plain data structure (an edition's content).
- :mod:`.render` turns a snapshot into the text body, CSV, vCard 4.0 and PDF.
- :mod:`.editions` generates, stores, signs and sends an edition, exactly once per period.
- :mod:`.schedule` says which period is due (first working day of the month, quarters, …).
- :mod:`.signing` signs with the community's OpenPGP key when one is configured.
- :mod:`.reachability` sends the periodic challenges, records answers, reminds and escalates,
  and reports who proved reachable.
"""
