"""CSS selectors in the config (``fulltext:``, ``rules.rewrite.remove``): checked when the file
is read, so a typo is reported with its key path and line, not at the first article."""

from __future__ import annotations

from functools import lru_cache

from cssselect import GenericTranslator, SelectorError

#: The longest selector accepted (a selector is a few words; this bounds the translator's work).
MAX_SELECTOR = 500


@lru_cache(maxsize=1024)
def selector_xpath(selector: str) -> str:
    """The XPath of a CSS ``selector`` (cssselect, HTML rules). Raises ``SelectorError``."""
    return str(GenericTranslator().css_to_xpath(selector))


def selector_problem(selector: str) -> str | None:
    """None if ``selector`` is a CSS selector feedsite can apply, else what is wrong with it."""
    if len(selector) > MAX_SELECTOR:
        return f"longer than {MAX_SELECTOR} characters"
    try:
        selector_xpath(selector)
    except SelectorError as error:
        return str(error) or type(error).__name__
    except (ValueError, TypeError) as error:  # cssselect's own bugs on odd input
        return str(error) or type(error).__name__
    return None
