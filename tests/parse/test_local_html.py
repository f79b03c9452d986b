"""HTML pages keep their main content: navigation, banners, footers, sidebars and link lists go."""

from __future__ import annotations

from llama_index_cloudkit.parse.local.html import iter_html_pages
from llama_index_cloudkit.parse.local.similarity import words

ARTICLE = (
    "Ducks are waterfowl of the family Anatidae. They are smaller and shorter-necked than swans "
    "and geese, and may be found in both fresh water and sea water."
)
SECOND = "A duckling is a young duck in downy plumage, or a baby duck."


def _text(html: str) -> str:
    (page,) = iter_html_pages(html.encode(), "page.html")
    return page.markdown()


def _links(*names: str) -> str:
    return "".join(f'<li><a href="/wiki/{n}">{n} link</a></li>' for n in names)


def test_semantic_page_keeps_the_article_and_drops_navigation_sidebars_and_footer() -> None:
    html = f"""<html><body>
      <header><a href="/">SiteLogo</a> <form role="search"><input name="q"> SearchBox</form></header>
      <nav><ul>{_links("Home", "Contents", "RandomPage")}</ul></nav>
      <div role="navigation"><ul>{_links("Afrikaans", "Deutsch", "Francais")}</ul></div>
      <main>
        <h1>Duck</h1>
        <p>{ARTICLE}</p>
        <aside><p>SidebarTools appear here</p></aside>
        <h2>Etymology</h2>
        <p>{SECOND} See <a href="/wiki/Plumage">plumage</a> for details.</p>
        <h2>Contents</h2>
        <ul><li><a href="#Etymology">1 Etymology</a></li><li><a href="#See_also">2 See also</a></li></ul>
        <h2>See also</h2>
        <ul>{_links("Goose", "Swan", "Mallard", "Teal")}</ul>
        <div class="cats">Categories: <a href="/c/1">BirdCategory</a> | <a href="/c/2">DuckCategory</a></div>
        <p hidden>HiddenParagraph</p>
        <p style="display: none">InvisibleParagraph</p>
      </main>
      <div role="contentinfo">LegalNotice text</div>
      <footer>PrivacyPolicy <a href="/about">AboutUs</a></footer>
    </body></html>"""
    text = _text(html)
    assert "# Duck" in text and ARTICLE in text and "## Etymology" in text
    assert "A duckling is a young duck" in text and "plumage" in text
    # A list of links that is a section's own content stays (the section is not empty).
    assert "## See also" in text and "Goose link" in text and "Teal link" in text
    for dropped in (
        "SiteLogo",
        "SearchBox",
        "RandomPage",
        "Deutsch",
        "SidebarTools",
        "1 Etymology",  # a contents list: links within the page
        "Contents",  # its section held only that list: an empty heading is not kept
        "BirdCategory",
        "HiddenParagraph",
        "InvisibleParagraph",
        "LegalNotice",
        "PrivacyPolicy",
    ):
        assert dropped not in text, dropped


def test_page_without_semantic_elements_keeps_its_prose_and_drops_link_blocks() -> None:
    html = f"""<html><body>
      <div id="top"><a href="/">Home</a> | <a href="/news">News</a> | <a href="/shop">Shop</a></div>
      <div id="content">
        <h1>Duck</h1>
        <p>{ARTICLE}</p>
        <p>{SECOND} Read more about <a href="/swan">swans</a>.</p>
        <h2>References</h2>
        <ol>
          <li><cite>Carboneras, C. (1992). Family Anatidae. Lynx Edicions.</cite> ISBN 978-84-87334-10-8</li>
          <li><cite>Livezey, B. C. (1986). A phylogenetic analysis of Anseriformes.</cite></li>
        </ol>
        <div><ul>{_links("Goose", "Swan", "Mallard")}</ul></div>
      </div>
      <div id="bottom"><a href="/terms">Terms</a> <a href="/privacy">Privacy</a></div>
    </body></html>"""
    text = _text(html)
    assert "# Duck" in text and ARTICLE in text and SECOND in text
    for dropped in ("News", "Shop", "Carboneras", "Livezey", "References", "Goose link", "Privacy"):
        assert dropped not in text, dropped


def test_the_article_element_is_the_content_when_there_is_no_main() -> None:
    html = f"""<html><body>
      <div class="menu"><p>Welcome to our blog, a site about birds of every kind</p></div>
      <article><header><h1>Duck</h1><p>By A. Writer</p></header><p>{ARTICLE}</p>
        <footer>Tags: <a href="/t/birds">birds</a></footer></article>
    </body></html>"""
    text = _text(html)
    assert "# Duck" in text and "By A. Writer" in text and ARTICLE in text
    assert "Welcome to our blog" not in text and "Tags" not in text


def test_a_page_that_is_only_links_still_gives_its_text() -> None:
    html = f"""<html><body><h1>Site map</h1>
      <ul>{_links("Home", "Products", "Support", "Careers", "Contact")}</ul>
      <nav><ul>{_links("Blog", "Press")}</ul></nav></body></html>"""
    text = _text(html)
    assert "Site map" in text
    for name in ("Home", "Products", "Support", "Careers", "Contact"):
        assert f"{name} link" in text


def test_a_page_entirely_inside_navigation_elements_is_not_empty() -> None:
    text = _text(f"<html><body><nav><ul>{_links('Alpha', 'Beta')}</ul></nav></body></html>")
    assert "Alpha link" in text and "Beta link" in text


def test_tables_of_links_are_content_not_navigation() -> None:
    # A table of contents with linked rows (as in SEC filings) is kept as a table.
    rows = "".join(
        f'<tr><td>Item {i}.</td><td><a href="#i{i}">Section {i}</a></td><td>{i * 3}</td></tr>'
        for i in range(4)
    )
    (page,) = iter_html_pages(f"<p>{ARTICLE}</p><table>{rows}</table>".encode(), "toc.html")
    assert len(page.tables) == 1 and page.tables[0].rows[2] == ["Item 2.", "Section 2", "6"]


def test_lists_of_sentences_with_links_and_single_links_are_prose() -> None:
    html = f"""<html><body><main><p>{ARTICLE}</p><div>
      <p>Ducks eat:</p>
      <ul><li>seeds of <a href="/g">aquatic grasses and tall sedges</a> in summer</li>
          <li>small <a href="/i">freshwater invertebrates, insects</a> and worms</li></ul>
      <p><a href="/stability">Stability: 2</a> - Stable</p>
      <p><a href="#c">net.connect()</a> and <a href="#s">server.listen()</a> take a path parameter.</p>
      <p>Notes: <a href="/n1">NoteOne</a> <a href="/n2">NoteTwo</a></p>
    </div></main></body></html>"""
    text = " ".join(words(_text(html)))
    assert "seeds of aquatic grasses and tall sedges in summer" in text
    assert "small freshwater invertebrates insects and worms" in text
    assert "stability 2 stable" in text
    assert "net connect and server listen take a path parameter" in text
    assert "noteone" not in text  # two links and little else: navigation


def test_prose_with_many_inline_links_is_kept() -> None:
    linked = (
        '<p><b>Duck</b> is the common name for <a href="/w">waterfowl</a> in the <a href="/f">family</a> '
        '<a href="/a">Anatidae</a>, smaller than <a href="/s">swans</a> and <a href="/g">geese</a>.</p>'
    )
    text = _text(f"<html><body><main>{linked}<p>{ARTICLE}</p></main></body></html>")
    assert "duck is the common name for waterfowl in the family anatidae" in " ".join(words(text))
