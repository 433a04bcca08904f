"""Targets: the outputs feedsite writes (Hexo posts; a native site later).

Rendering is pure (``hexo.render_post``); the only code that touches an output
tree is :class:`~feedsite._targets._writer.Writer`.
"""
