"""The main content of an HTML page, found the same way on any site.

From what the markup says and how much of a block is link text:

- the ``<main>`` element (or ``role="main"``) when there is one, else a single ``<article>`` that
  holds a fair share of the page's text, else the whole body;
- inside it, hidden elements (``hidden``, ``aria-hidden="true"``, ``display: none``), navigation
  landmarks (``<nav>``, ``<aside>``, the page's own ``<header>``/``<footer>``, ``role=navigation``,
  ``banner``, ``contentinfo``, ``complementary``, ``search``, menus, dialogs) and form controls go;
- then lists of citations (items holding ``<cite>``, ``role="doc-bibliography"``) and blocks whose
  text is mostly link text (menus, category bars, contents and language lists) go; tables stay,
  and so does a list of links that is a section's content (a "See also" list under its heading);
- a heading whose section only held what was dropped goes with it.

Nothing ever empties a page: a step that would leave no text (a page inside ``<nav>``) or keep
less than a fifth of it (a site map, a list of publications) is not applied.
"""

from __future__ import annotations

from typing import Any

__all__ = ["content_root"]

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LANDMARK_TAGS = {"nav", "aside", "menu", "dialog", "button", "select", "input", "textarea"}
_LANDMARK_ROLES = {
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "toolbar",
    "dialog",
    "alertdialog",
}
_REFERENCE_ROLES = {"doc-bibliography", "doc-endnotes"}
# A <header>/<footer> is the page's banner/footer unless it sits in one of these (ARIA's rule).
_SECTIONING = {"article", "aside", "main", "nav", "section", "blockquote", "figure"}
_LISTS = ("ul", "ol", "dl", "menu")
_BLOCKS = (*_LISTS, "div", "section", "p", "center", "form")
_LINK_DENSITY = 0.5  # a block whose text is more than this share of link text is navigation
# A list item or paragraph this much link text is links, not a sentence with links in it.
_LINK_ITEM = 2 / 3
_MIN_KEPT = 0.2  # a content step that would keep less than this share of the text is skipped


def _roles(tag: Any) -> set[str]:
    return set(str(tag.get("role") or "").lower().split())


def _within(tag: Any, names: set[str] | tuple[str, ...]) -> bool:
    parent = tag.parent
    while parent is not None:
        if parent.name in names:
            return True
        parent = parent.parent
    return False


def _tags(root: Any, bs4: Any) -> list[Any]:
    return [node for node in root.descendants if isinstance(node, bs4.Tag)]


def _is_hidden(tag: Any) -> bool:
    if tag.has_attr("hidden") or str(tag.get("aria-hidden") or "").lower() == "true":
        return True
    style = "".join(str(tag.get("style") or "").lower().split())
    return "display:none" in style or "visibility:hidden" in style


def _is_landmark(tag: Any) -> bool:
    if tag.name in _LANDMARK_TAGS or _roles(tag) & _LANDMARK_ROLES:
        return True
    if tag.name == "footer":  # the page's footer, or an article's (tags, share links); not a quote's
        return not _within(tag, ("blockquote",))
    return tag.name == "header" and not _within(tag, _SECTIONING)  # the page's banner


def _is_reference_list(tag: Any) -> bool:
    if _roles(tag) & _REFERENCE_ROLES:
        return True
    if tag.name not in ("ol", "ul"):
        return False
    items = tag.find_all("li", recursive=False)
    return bool(items) and 2 * sum(item.find("cite") is not None for item in items) >= len(items)


class _TextSizes:
    """Non-space characters of text, and of link text, under each element (one pass)."""

    def __init__(self, root: Any, bs4: Any) -> None:
        self.text: dict[int, int] = {}
        self.links: dict[int, int] = {}
        self.anchors: dict[int, int] = {}
        for node in root.descendants:
            if isinstance(node, bs4.Tag) and node.name == "a":
                for parent in node.parents:
                    self.anchors[id(parent)] = self.anchors.get(id(parent), 0) + 1
            if type(node) is not bs4.NavigableString:  # tags, comments, CDATA, doctypes
                continue
            size = len("".join(node.split()))
            if not size:
                continue
            parents = list(node.parents)
            linked = any(parent.name == "a" for parent in parents)
            for parent in parents:
                key = id(parent)
                self.text[key] = self.text.get(key, 0) + size
                if linked:
                    self.links[key] = self.links.get(key, 0) + size

    def of(self, tag: Any) -> int:
        return self.text.get(id(tag), 0)

    def link_density(self, tag: Any) -> float:
        size = self.of(tag)
        return self.links.get(id(tag), 0) / size if size else 0.0


def _outermost(tags: list[Any]) -> list[Any]:
    chosen = {id(tag) for tag in tags}
    return [tag for tag in tags if not any(id(parent) in chosen for parent in tag.parents)]


def _drop(root: Any, tags: list[Any], bs4: Any, min_kept: float) -> None:
    """Remove ``tags`` unless that keeps less than ``min_kept`` of ``root``'s text (or none)."""
    tags = _outermost(tags)
    if not tags:
        return
    sizes = _TextSizes(root, bs4)
    total = sizes.of(root)
    kept = total - sum(sizes.of(tag) for tag in tags)
    if total and (kept <= 0 or kept < min_kept * total):
        return
    for tag in tags:
        tag.decompose()


def _is_section_list(tag: Any, bs4: Any) -> bool:
    """A list that is a section's own content ("See also" under its heading), not a contents list."""
    for sibling in tag.previous_siblings:
        if isinstance(sibling, bs4.Tag):
            if sibling.name not in _HEADINGS:
                return False
            links = tag.find_all("a", href=True)
            in_page = sum(str(link["href"]).startswith("#") for link in links)
            return 2 * in_page < len(links)
        if type(sibling) is bs4.NavigableString and sibling.strip():
            return False
    return False


def _is_link_list(tag: Any, sizes: _TextSizes) -> bool:
    """Most of the list's items are links, not sentences with links in them."""
    items = [item for item in tag.children if getattr(item, "name", None) in ("li", "dt", "dd")]
    links = sum(sizes.of(item) > 0 and sizes.link_density(item) >= _LINK_ITEM for item in items)
    return 2 * links > len([item for item in items if sizes.of(item)])


def _link_blocks(root: Any, bs4: Any) -> list[Any]:
    """The blocks that are navigation: mostly link text, two links or more, no table or prose list.

    A paragraph is navigation when it is links with little else (``Home | News | Shop``).

    A list is navigation when most of its items are links (a list of sentences with links in
    them is prose), unless it is a section's own content under its heading.
    """
    sizes = _TextSizes(root, bs4)
    tags = _tags(root, bs4)
    found: list[Any] = []
    kept: set[int] = set()  # blocks holding a table or a prose list
    for tag in tags:
        if tag.name == "table" or (
            tag.name in _LISTS and (not _is_link_list(tag, sizes) or _is_section_list(tag, bs4))
        ):
            kept.update(id(parent) for parent in tag.parents)
    for tag in tags:
        if (
            tag.name not in _BLOCKS
            or id(tag) in kept
            or sizes.anchors.get(id(tag), 0) < 2
            or sizes.link_density(tag) <= (_LINK_ITEM if tag.name == "p" else _LINK_DENSITY)
            or _within(tag, ("table",))
        ):
            continue
        if tag.name in _LISTS and (not _is_link_list(tag, sizes) or _is_section_list(tag, bs4)):
            continue
        found.append(tag)
    return found


def _headings_with_text(root: Any, bs4: Any) -> list[Any]:
    """The headings whose section (up to the next heading of the same or a higher level) has text."""
    result: dict[int, Any] = {}
    open_headings: list[tuple[int, Any]] = []
    for node in root.descendants:
        if isinstance(node, bs4.Tag):
            if node.name in _HEADINGS:
                level = int(node.name[1])
                open_headings = [(lv, h) for lv, h in open_headings if lv < level]
                open_headings.append((level, node))
            continue
        if type(node) is bs4.NavigableString and node.strip() and not _within(node, _HEADINGS):
            for _, heading in open_headings:
                result[id(heading)] = heading
    return list(result.values())


def content_root(soup: Any, bs4: Any) -> Any:
    """The element holding the page's main content, with everything around it removed from it.

    ``soup`` is changed in place; ``bs4`` is the ``bs4`` module (imported by the caller, an extra).

    Example:
        >>> import bs4
        >>> soup = bs4.BeautifulSoup(
        ...     "<nav><a href='/'>Home</a> <a href='/b'>Blog</a></nav>"
        ...     "<main><h1>Ducks</h1><p>Ducks swim.</p><footer>Legal</footer></main>",
        ...     "html.parser",
        ... )
        >>> content_root(soup, bs4).get_text(" ", strip=True)
        'Ducks Ducks swim.'
    """
    body = soup.body or soup
    _drop(body, [tag for tag in _tags(body, bs4) if _is_hidden(tag)], bs4, min_kept=0.0)
    sizes = _TextSizes(body, bs4)
    tags = _tags(body, bs4)
    mains = [tag for tag in tags if (tag.name == "main" or "main" in _roles(tag)) and sizes.of(tag)]
    articles = _outermost([tag for tag in tags if tag.name == "article"])
    root = body
    if mains:
        root = _outermost(mains)[0]
    elif len(articles) == 1 and sizes.of(articles[0]) * 4 >= sizes.of(body):
        root = articles[0]
    had_text = _headings_with_text(root, bs4)
    tags = _tags(root, bs4)
    _drop(root, [tag for tag in tags if _is_landmark(tag)], bs4, min_kept=0.0)
    tags = _tags(root, bs4)
    _drop(root, [tag for tag in tags if _is_reference_list(tag)], bs4, min_kept=_MIN_KEPT)
    _drop(root, _link_blocks(root, bs4), bs4, min_kept=_MIN_KEPT)
    still = {id(heading) for heading in _headings_with_text(root, bs4)}
    for heading in had_text:
        if not heading.decomposed and id(heading) not in still:
            heading.decompose()
    return root
