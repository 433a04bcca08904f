"""feedsite: turn a curated tree of RSS, Atom and JSON feeds into a news site.

The public surface is small: the ``feedsite`` CLI (:mod:`feedsite.cli`), the
config (:mod:`feedsite.config`), the value types (:mod:`feedsite.types`) and
the errors (:mod:`feedsite.errors`). Modules starting with ``_`` are the
pipeline's stages and may change at any time.
"""

from feedsite.errors import FeedsiteError

#: Must match ``version`` in pyproject.toml (a test checks).
__version__ = "0.1.0"

__all__ = ["FeedsiteError", "__version__"]
