"""Tables drawn with horizontal rules only (booktabs, report tables): rows and columns from layout.

pdfplumber's lattice finder needs rules on every side of a cell. Many tables have horizontal
rules only (a top, a header and a bottom rule, sometimes one between row groups) and columns
set apart by white space. This module finds them from the page's rules and PDFium's text
segments (``FPDFText_GetRect``: runs of text that PDFium already splits at column gaps):

- a *region* is two or more horizontal rules of the same extent (pieces drawn side by side are
  joined first), with text between the first and the last;
- columns are the gaps in the projection of the body's segments on the x axis (and any vertical
  rule inside the region);
- rows are the text lines; where rules split the body into bands of several lines, a band is one
  row of wrapped text, unless its cells are numbers stacked line by line (then each line is a
  row); a line that only fills columns its neighbour leaves empty (a value centred on two
  lines) joins the nearer neighbour;
- the header band (above the first inner rule) is one row, except that a partial rule in it
  (``\\cmidrule``) puts the cell above it in every column it spans and starts a second row.

Candidates whose cells are mostly single glyphs (diagrams) are dropped.

Example:
    >>> rules = [Rule(100, 300, 400), Rule(100, 280, 400), Rule(100, 240, 400)]
    >>> segments = [
    ...     Segment(110, 285, 140, 295, "Name"), Segment(300, 285, 330, 295, "Score"),
    ...     Segment(110, 265, 140, 275, "Ann"), Segment(300, 265, 320, 275, "12"),
    ...     Segment(110, 250, 140, 260, "Bob"), Segment(300, 250, 320, 260, "7"),
    ... ]
    >>> [t.rows for t in find_rule_tables(rules, [], segments, width=612)]
    [[['Name', 'Score'], ['Ann', '12'], ['Bob', '7']]]
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from llama_index_cloudkit.parse.model import ParsedTable

__all__ = [
    "Rule",
    "RuleRegion",
    "Segment",
    "find_aligned_regions",
    "find_rule_regions",
    "find_rule_tables",
    "has_columns",
    "mostly_glyphs",
    "table_in_region",
]

_SAME_EXTENT = 2.5  # points: rules of one table start and end this close
_SAME_Y = 1.5
_MIN_WIDTH = 80.0
_MIN_HEIGHT = 12.0
_NUMBER = re.compile(r"^[-+(]?[$€£]?\d[\d,.]*%?\)?$|^n/?a$|^-+$", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """A horizontal rule: from ``x0`` to ``x1`` at height ``y`` (PDF points, y up).

    Example:
        >>> Rule(72, 500, 540).width
        468
    """

    x0: float
    y: float
    x1: float

    @property
    def width(self) -> float:
        """How long the rule is."""
        return self.x1 - self.x0


@dataclass(frozen=True)
class Segment:
    """A run of text on one line (PDF points, y up), as PDFium's text rectangles give it.

    Example:
        >>> Segment(0, 0, 10, 8, "42").text
        '42'
    """

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def cy(self) -> float:
        """The vertical centre."""
        return (self.y0 + self.y1) / 2


@dataclass
class RuleRegion:
    """Full-width rules of one candidate table (top first), its partial rules, its bounds.

    Example:
        >>> region = find_rule_regions([Rule(0, 50, 200), Rule(0, 10, 200)])[0]
        >>> (region.top, region.bottom, region.x0, region.x1)
        (50, 10, 0, 200)
    """

    rules: list[float]  # y of each full-width rule, top first
    x0: float
    x1: float
    partial: list[Rule] = field(default_factory=list)

    @property
    def top(self) -> float:
        """The y of the top rule."""
        return self.rules[0]

    @property
    def bottom(self) -> float:
        """The y of the bottom rule."""
        return self.rules[-1]


def _joined(rules: list[Rule]) -> list[Rule]:
    """Rules at one height drawn in touching pieces become one rule."""
    out: list[Rule] = []
    for rule in sorted(rules, key=lambda r: (round(r.y), r.x0)):
        last = out[-1] if out else None
        if last is not None and abs(last.y - rule.y) <= _SAME_Y and rule.x0 <= last.x1 + 2:
            out[-1] = Rule(last.x0, last.y, max(last.x1, rule.x1))
        elif not any(
            abs(o.y - rule.y) <= _SAME_Y and abs(o.x0 - rule.x0) < 2 and abs(o.x1 - rule.x1) < 2 for o in out
        ):
            out.append(rule)
    return out


def find_rule_regions(rules: list[Rule]) -> list[RuleRegion]:
    """Groups of two or more horizontal rules of the same extent, each a candidate table.

    Example:
        >>> [r.rules for r in find_rule_regions([Rule(0, 9, 100), Rule(0, 50, 100), Rule(0, 30, 300)])]
        [[50, 9]]
    """
    joined = [r for r in _joined(rules) if r.width >= 15]
    regions: list[RuleRegion] = []
    for rule in sorted(joined, key=lambda r: -r.width):
        if rule.width < _MIN_WIDTH:
            continue
        group = [
            r for r in joined if abs(r.x0 - rule.x0) <= _SAME_EXTENT and abs(r.x1 - rule.x1) <= _SAME_EXTENT
        ]
        ys = sorted({round(r.y, 1) for r in group}, reverse=True)
        merged: list[float] = []
        for y in ys:
            if not merged or merged[-1] - y > _SAME_Y:
                merged.append(y)
        if len(merged) < 2 or merged[0] - merged[-1] < _MIN_HEIGHT:
            continue
        if any(
            r.x0 < rule.x1 and rule.x0 < r.x1 and r.bottom <= merged[0] and merged[-1] <= r.top
            for r in regions
        ):
            continue  # overlaps a region found already
        region = RuleRegion(rules=merged, x0=min(r.x0 for r in group), x1=max(r.x1 for r in group))
        region.partial = [
            r
            for r in joined
            if r.x0 >= region.x0 - 2
            and r.x1 <= region.x1 + 2
            and region.bottom < r.y < region.top
            and r.width < region.x1 - region.x0 - 2 * _SAME_EXTENT
        ]
        regions.append(region)
    return regions


def _columns(segments: list[Segment], width: float) -> list[tuple[float, float]]:
    """Column intervals: the x projection of the segments (the widest ones left out)."""
    narrow = [s for s in segments if s.x1 - s.x0 <= 0.4 * width] or segments
    spans = sorted((s.x0, s.x1) for s in narrow)
    columns: list[list[float]] = []
    for x0, x1 in spans:
        if columns and x0 < columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])
    return [(a, b) for a, b in columns]


def _column_of(segment: Segment, columns: list[tuple[float, float]]) -> list[int]:
    """The columns a segment covers (most overlap first); the nearest if it covers none."""
    overlaps = [(min(segment.x1, b) - max(segment.x0, a), k) for k, (a, b) in enumerate(columns)]
    hit = [k for o, k in sorted(overlaps, reverse=True) if o > 0]
    if hit:
        return sorted(hit)
    centre = (segment.x0 + segment.x1) / 2
    return [
        min(range(len(columns)), key=lambda k: min(abs(centre - columns[k][0]), abs(centre - columns[k][1])))
    ]


def _lines(segments: list[Segment]) -> list[list[Segment]]:
    """Segments grouped into text lines, top first."""
    lines: list[list[Segment]] = []
    for segment in sorted(segments, key=lambda s: -s.cy):
        height = max(segment.y1 - segment.y0, 1.0)
        if lines and abs(lines[-1][0].cy - segment.cy) <= 0.4 * height:
            lines[-1].append(segment)
        else:
            lines.append([segment])
    return lines


def _cells(line: list[Segment], columns: list[tuple[float, float]], spread: bool = False) -> list[str]:
    row = [""] * len(columns)
    for segment in sorted(line, key=lambda s: s.x0):
        text = " ".join(segment.text.split())
        if not text:
            continue
        covered = _column_of(segment, columns)
        for k in covered if spread else covered[:1]:
            row[k] = f"{row[k]} {text}".strip()
    return row


def _join(rows: list[list[str]]) -> list[str]:
    return [" ".join(c for c in column if c) for column in zip(*rows, strict=False)]


def _numeric(rows: list[list[str]]) -> bool:
    cells = [c for row in rows for c in row if c]
    return bool(cells) and sum(1 for c in cells if _NUMBER.match(c)) >= 0.5 * len(cells)


def _stacked(lines: list[list[str]]) -> list[list[str]]:
    """Lines as rows; a line filling only columns its nearest neighbour leaves empty joins it."""
    rows = [list(r) for r in lines]
    k = 0
    while k < len(rows) and len(rows) > 1:
        filled = {j for j, c in enumerate(rows[k]) if c}
        neighbours = [n for n in (k - 1, k + 1) if 0 <= n < len(rows)]
        free = [n for n in neighbours if not filled & {j for j, c in enumerate(rows[n]) if c}]
        if free and len(filled) < len(rows[k]) / 2:
            n = free[0]  # a value centred on two lines belongs to the row it starts
            rows[n] = [a or b for a, b in zip(rows[n], rows[k], strict=False)]
            del rows[k]
            continue
        k += 1
    return rows


def _inside(region: RuleRegion, segments: list[Segment]) -> list[Segment]:
    return [
        s
        for s in segments
        if region.bottom - 1 <= s.cy <= region.top + 1 and s.x0 >= region.x0 - 3 and s.x1 <= region.x1 + 3
    ]


def has_columns(region: RuleRegion, boxes: list[Segment]) -> bool:
    """Whether text boxes (no text needed) between a region's rules leave two columns or more.

    The cheap test run before any text is read: prose between two rules fills its lines from
    edge to edge and leaves one column.

    Example:
        >>> region = RuleRegion(rules=[30, 0], x0=0, x1=200)
        >>> has_columns(region, [Segment(5, 10, 40, 20, ""), Segment(120, 10, 150, 20, "")])
        True
    """
    inside = _inside(region, boxes)
    header_end = region.rules[1] if len(region.rules) >= 3 else None
    body = [s for s in inside if header_end is None or s.cy < header_end] or inside
    return len(_columns(body, region.x1 - region.x0)) >= 2


def _mark(column: list[str]) -> str | None:
    """The one glyph that fills (nearly) every filled cell of a column: a bullet, a check box."""
    filled = [c for c in column if c]
    if len(filled) < 3:
        return None
    glyph, count = max(((g, filled.count(g)) for g in set(filled)), key=lambda gc: gc[1])
    return glyph if len(glyph) == 1 and not glyph.isdigit() and count >= 0.8 * len(filled) else None


def mostly_glyphs(rows: list[list[str]]) -> bool:
    """Whether most filled cells hold one glyph that is not a digit: a diagram's labels and arrows.

    A glyph with no text behind it (pdfminer's ``(cid:N)``, passed here as U+FFFC) counts as one.
    A column of one repeated glyph (bullets, check boxes) is a table's marks, not a diagram's.

    Example:
        >>> mostly_glyphs([["A", "B", "\ufffc"], ["x", "Total", "y"]])
        True
        >>> mostly_glyphs([["Item", "n"], ["apples", "3"], ["pears", "1"]])
        False
        >>> checks = [["*", name, "*", "*"] for name in ("North", "South", "East")]
        >>> mostly_glyphs([["", "Region", "Yes", "No"], *checks])
        False
    """
    columns = [list(c) for c in zip(*rows, strict=False)]
    marks = [_mark(c) for c in columns]
    cells = [c for column, mark in zip(columns, marks, strict=True) for c in column if c and c != mark]
    glyphs = sum(1 for c in cells if len(c) == 1 and not c.isdigit())
    return glyphs > 0.5 * len(cells) if cells else any(marks)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (PDF points, y up)


def _box_lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into text lines, top first (plain tuples: this runs on every page)."""
    lines: list[list[Box]] = []
    anchor = 0.0
    for box in sorted(boxes, key=lambda b: -(b[1] + b[3])):
        cy = (box[1] + box[3]) / 2
        if lines and abs(anchor - cy) <= 0.4 * max(box[3] - box[1], 4.0):
            lines[-1].append(box)
        else:
            lines.append([box])
            anchor = cy
    return lines


def _gap_runs(line: list[Box]) -> list[tuple[float, float]]:
    """A line's runs of boxes set apart by gaps wider than 2.5 line heights: (x0, x1) each."""
    height = max(b[3] - b[1] for b in line)
    runs: list[list[float]] = []
    for x0, _, x1, _ in sorted(line):
        if runs and x0 - runs[-1][1] < 2.5 * height:
            runs[-1][1] = max(runs[-1][1], x1)
        else:
            runs.append([x0, x1])
    return [(a, b) for a, b in runs]


def _aligned(upper: list[tuple[float, float]], lower: list[tuple[float, float]]) -> bool:
    """Whether two lines' runs start at the same three or more x positions."""
    return sum(1 for a, _ in lower if any(abs(a - b) < 3 for b, _ in upper)) >= 3


def _spans(runs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The x intervals the runs of a table's body cover, overlapping ones merged."""
    spans: list[list[float]] = []
    for x0, x1 in sorted(runs):
        if spans and x0 <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], x1)
        else:
            spans.append([x0, x1])
    return [(a, b) for a, b in spans]


def _header(lines: list[list[Box]], first: int, spans: list[tuple[float, float]], pitch: float) -> list[int]:
    """The lines just above a body (nearest first) that fit its columns; the top one has two cells."""
    header: list[int] = []
    columns_of: list[set[int]] = []
    index = first - 1
    while index >= 0 and len(header) < 3:
        line, below = lines[index], lines[header[-1] if header else first]
        hits = [[k for k, (a, b) in enumerate(spans) if box[0] < b and a < box[2]] for box in line]
        if _cy(line) - _cy(below) > 1.6 * pitch or any(len(h) != 1 for h in hits):
            break  # too far above, or text across a column gap: prose
        header.append(index)
        columns_of.append({h[0] for h in hits})
        index -= 1
    while header and len(columns_of[-1]) < 2:
        header.pop()  # a caption or an instruction above the table, not its header
        columns_of.pop()
    return header


def _cy(line: list[Box]) -> float:
    return (line[0][1] + line[0][3]) / 2


def _column_of_prose(side: list[Box], height: float) -> bool:
    """Whether boxes run down most of ``height`` with five or more lines of prose (150 points
    wide or more): a page column, not a table column."""
    if max(b[3] for b in side) - min(b[1] for b in side) < 0.6 * height:
        return False
    wide = sum(1 for line in _box_lines(side) if max(b[2] for b in line) - min(b[0] for b in line) >= 150)
    return wide >= 5


def _slabs(boxes: list[Box]) -> list[list[Box]]:
    """Boxes split at gutters: x bands no text crosses between two columns of prose (the
    columns of a paper, the pages of a spread; not the gaps between a table's columns)."""
    if not boxes:
        return []
    height = max(b[3] for b in boxes) - min(b[1] for b in boxes)
    ordered = sorted(boxes)
    slabs: list[list[Box]] = []
    current: list[Box] = []
    reach = -float("inf")
    for index, box in enumerate(ordered):
        gutter = current and box[0] - reach >= 12
        if gutter and _column_of_prose(current, height) and _column_of_prose(ordered[index:], height):
            slabs.append(current)
            current = []
        current.append(box)
        reach = max(reach, box[2])
    return [*slabs, current]


def find_aligned_regions(boxes: list[Box]) -> list[RuleRegion]:
    """Tables with no rules at all: three or more lines whose runs of text, set apart by wide gaps,
    start at the same three or more x positions; the lines just above that fit those columns
    (two cells or more on the top one) are its header.

    ``boxes`` are the page's text object boxes, (x0, y0, x1, y1) each: geometry only, no text,
    the cheap gate before any text is read. Prose, even in columns, has no gap that wide inside
    a line. The region's ``rules`` are its band edges: top, end of the header (when it has
    one), bottom.

    Example:
        >>> rows = [("Name", "Year", "Score"), ("Ann", "2020", "12"), ("Bob", "2021", "7")]
        >>> boxes = [
        ...     (100 + 120 * c, 700 - 14 * r, 100 + 120 * c + 6 * len(t), 710 - 14 * r)
        ...     for r, row in enumerate(rows)
        ...     for c, t in enumerate(row)
        ... ]
        >>> [(r.rules, r.x0, r.x1) for r in find_aligned_regions(boxes)]
        [([710, 672], 100, 370)]
    """
    kept = [b for b in boxes if b[3] - b[1] >= 1 and b[2] - b[0] >= 0.5]
    lines = _box_lines(kept)
    if sum(1 for line in lines if len(line) >= 3 and len(_gap_runs(line)) >= 3) < 3:
        return []  # the gate: most pages stop here
    return [region for slab in _slabs(kept) for region in _aligned_in(_box_lines(slab))]


def _aligned_in(lines: list[list[Box]]) -> list[RuleRegion]:
    runs = [_gap_runs(line) for line in lines]
    regions: list[RuleRegion] = []
    k = 0
    while k < len(lines):
        body = [k]
        while (
            body[-1] + 1 < len(lines)
            and len(runs[body[-1]]) >= 3
            and len(runs[body[-1] + 1]) >= 3
            and _aligned(runs[body[-1]], runs[body[-1] + 1])
        ):
            body.append(body[-1] + 1)
        if len(body) < 3:
            k += 1
            continue
        spans = _spans([r for i in body for r in runs[i]])
        header = _header(lines, body[0], spans, _cy(lines[body[0]]) - _cy(lines[body[1]]))
        members = [b for i in [*header, *body] for b in lines[i]]
        top = max(b[3] for b in lines[header[-1] if header else body[0]])
        bottom = min(b[1] for b in lines[body[-1]])
        rules = [top, bottom]
        if header:  # the header band ends between its last line and the body's first
            rules.insert(1, (min(b[1] for b in lines[header[0]]) + max(b[3] for b in lines[body[0]])) / 2)
        regions.append(RuleRegion(rules=rules, x0=min(b[0] for b in members), x1=max(b[2] for b in members)))
        k = body[-1] + 1
    return regions


def table_in_region(
    region: RuleRegion, segments: list[Segment], verticals: list[float]
) -> ParsedTable | None:
    """The table between a region's rules, or None when the text there is not a grid.

    Example:
        >>> region = RuleRegion(rules=[30, 0], x0=0, x1=200)
        >>> table_in_region(region, [Segment(5, 10, 50, 20, "one line of prose")], []) is None
        True
    """
    inside = [s for s in _inside(region, segments) if s.text.strip()]
    if not inside:
        return None
    header_end = region.rules[1] if len(region.rules) >= 3 else None
    body = [s for s in inside if header_end is None or s.cy < header_end]
    if verticals:  # ruled columns: the rules are the boundaries
        edges = [region.x0, *sorted(set(verticals)), region.x1]
        columns = [(a, b) for a, b in itertools.pairwise(edges) if b - a > 2]
    else:
        columns = _columns(body or inside, region.x1 - region.x0)
    if len(columns) < 2:
        return None
    rows: list[list[str]] = []
    if header_end is not None:
        header = [s for s in inside if s.cy >= header_end]
        tiers = sorted({round(r.y, 1) for r in region.partial if r.y > header_end}, reverse=True)
        if header and tiers:
            cut = tiers[0]
            upper = [s for s in header if s.cy > cut]
            lower = [s for s in header if s.cy <= cut]
            spanned = [
                k
                for k, (a, b) in enumerate(columns)
                if any(r.x0 - 2 <= a and b <= r.x1 + 2 for r in region.partial if round(r.y, 1) == cut)
            ]
            top_row = [""] * len(columns)
            for line in _lines(upper):
                for segment in line:
                    text = " ".join(segment.text.split())
                    hit = _column_of(segment, columns)
                    targets = spanned if set(hit) & set(spanned) else hit[:1]
                    for k in targets:
                        top_row[k] = f"{top_row[k]} {text}".strip()
            second = (
                _join([_cells(line, columns) for line in _lines(lower)]) if lower else [""] * len(columns)
            )
            for k in range(len(columns)):
                if k not in spanned and second[k]:
                    top_row[k], second[k] = f"{top_row[k]} {second[k]}".strip(), ""
            rows += [top_row, second]
        elif header:
            rows.append(_join([_cells(line, columns) for line in _lines(header)]))
    bounds = [y for y in region.rules if header_end is None or y <= header_end]
    bands: list[list[Segment]] = [
        [s for s in body if lo < s.cy <= hi] for hi, lo in itertools.pairwise(bounds)
    ]
    bands = [b for b in bands if b]
    multi = len(bands) >= 2 and any(len(_lines(b)) > 1 for b in bands)
    if multi:
        for band in bands:
            lines = [_cells(line, columns) for line in _lines(band)]
            rows += _stacked(lines) if _numeric(lines) else [_join(lines)]
    else:
        rows += _stacked([_cells(line, columns) for line in _lines(body)])
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return None
    if mostly_glyphs(rows):
        return None  # a diagram's labels, not a table
    if sum(1 for row in rows if sum(1 for c in row if c) >= 2) < max(2, len(rows) / 2):
        return None  # mostly one cell a row: prose (a framed page, a note) between two rules
    return ParsedTable(rows=rows)


def find_rule_tables(
    rules: list[Rule], verticals: list[float], segments: list[Segment], *, width: float
) -> list[ParsedTable]:
    """Every table ruled horizontally only among ``rules``, read from ``segments``.

    ``verticals`` are the x of vertical rules on the page; ``width`` is the page's.

    Example:
        >>> find_rule_tables([Rule(0, 50, 100)], [], [], width=612)
        []
    """
    del width
    tables = []
    for region in find_rule_regions(rules):
        inner = [x for x in verticals if region.x0 + 2 < x < region.x1 - 2]
        table = table_in_region(region, segments, inner)
        if table is not None:
            tables.append(table)
    return tables
