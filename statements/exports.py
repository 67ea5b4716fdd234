"""A statement as a CSV file and as a PDF, in the language of the request.

The PDF uses ReportLab's built-in CID font STSong-Light (Adobe's Song, shipped with every PDF
reader), so Chinese renders with no font file of ours; its text can be extracted and searched.
"""

import csv
import io
from xml.sax.saxutils import escape

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from mutualaid.templatetags.money import cents
from statements.services import Statement

FONT = "STSong-Light"
STATUS_WORDS = {
    "paid": lambda: _("paid"),
    "due": lambda: _("due on collection day"),
    "unpaid": lambda: _("unpaid"),
    "written_off": lambda: _("written off at the lapse"),
}


def status_word(status: str) -> str:
    return STATUS_WORDS[status]()


def case_text(case: dict) -> str:
    """An anonymized case in one line: no name, identity number or file (reports.services)."""
    return (
        f"#{case['id']} {case['condition']} · {case['sex']} {case['age_band']} · "
        f"{case['province']} · ¥{cents(case['payout_cents'])}"
    )


def _columns() -> list[str]:
    return [
        _("Member"),
        _("Pool"),
        _("Batch"),
        _("Cut-off"),
        "P",
        "F",
        "S",
        "N",
        _("Base share"),
        _("Charge"),
        _("Covered by the annual cap"),
        _("Status"),
        _("Cases paid for"),
    ]


def _rows(statement: Statement):
    """(member, pool, batch, cut-off, P, F, S, N, base share, charge, capped, status, cases)."""
    for entry in statement.memberships:
        for line in entry.lines:
            batch = line.batch
            yield [
                entry.membership.person.full_name,
                str(entry.membership.pool),
                f"#{batch.pk}",
                batch.cutoff_at.strftime("%Y-%m-%d"),
                cents(batch.payouts_cents),
                cents(batch.fee_cents),
                cents(batch.subsidy_cents),
                str(batch.participants),
                cents(batch.base_share_cents),
                cents(line.charge.amount_cents),
                cents(line.charge.capped_cents),
                status_word(line.payment_status),
                "; ".join(case_text(case) for case in line.cases),
            ]


def _totals(statement: Statement):
    """Per membership: charged, paid, owed, the annual cap and what it leaves."""
    for entry in statement.memberships:
        yield [
            entry.membership.person.full_name,
            str(entry.membership.pool),
            cents(entry.charged_cents),
            cents(entry.paid_cents),
            cents(entry.owed_cents),
            cents(entry.annual_cap_cents),
            cents(entry.cap_left_cents),
        ]


def _total_columns() -> list[str]:
    return [
        _("Member"),
        _("Pool"),
        _("Charged"),
        _("Paid"),
        _("Owed"),
        _("Annual cap"),
        _("Left under the cap"),
    ]


# A cell starting with one of these is a formula to a spreadsheet (CSV injection): a member's
# name such as =HYPERLINK(...) would run when the member opens the file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(cell: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates (an apostrophe before it)."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _title(statement: Statement) -> str:
    return _("Statement for %(year)s") % {"year": statement.year}


def as_csv(statement: Statement) -> str:
    """Every charge, then the totals per membership (amounts in yuan, two decimals)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_title(statement)])
    writer.writerow(_columns())
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in _rows(statement))
    writer.writerow([])
    writer.writerow(_total_columns())
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in _totals(statement))
    return out.getvalue()


def as_pdf(statement: Statement) -> bytes:
    """The statement as an A4 landscape PDF: the charges' table, then the totals."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    # Chinese wraps between any two characters; English between words.
    wrap = "CJK" if get_language().startswith("zh") else None
    body = ParagraphStyle("body", fontName=FONT, fontSize=7, leading=9, wordWrap=wrap)
    heading = ParagraphStyle("heading", fontName=FONT, fontSize=14, leading=18)

    def table(header, rows, widths=None):
        # Paragraph reads its text as markup (<img src=…> would load a file or a URL): escaped.
        cells = [[Paragraph(escape(str(text)), body) for text in row] for row in [header, *rows]]
        result = Table(cells, colWidths=widths, repeatRows=1)
        result.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return result

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=_title(statement),
    )
    story = [Paragraph(escape(_title(statement)), heading), Spacer(1, 4 * mm)]
    rows = list(_rows(statement))
    if rows:
        widths = [w * mm for w in (24, 22, 12, 18, 18, 14, 14, 12, 14, 14, 16, 18, 81)]
        story.append(table(_columns(), rows, widths))
    else:
        story.append(Paragraph(escape(_("No charges in this year.")), body))
    story += [Spacer(1, 6 * mm), table(_total_columns(), list(_totals(statement)))]
    document.build(story)
    return buffer.getvalue()
