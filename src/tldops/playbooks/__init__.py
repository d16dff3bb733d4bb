"""The community's playbooks as living tools: the DDoS Mitigation Playbook and the DR/BCP Playbook.

The content lives as structured source files in ``content/`` (one YAML file per playbook, in
English, every paragraph with a stable id), checked against ``content/schema.json`` by the tests;
:mod:`~tldops.playbooks.content` loads it.
"""
