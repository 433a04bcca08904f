"""Config plumbing (private): the generic line-numbered YAML tree in ``_tree``.

Scope: nothing feedsite-specific. The schema (the config dataclasses, which keys
exist, defaults, every rule of a valid value) is :mod:`feedsite.config`.
"""
