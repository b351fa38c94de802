"""The monthly retention report as files: CSV for a spreadsheet and PDF (fpdf2, pure Python) to read or print."""

from __future__ import annotations

import csv
import io

from bot.metrics.retention import DEFINITIONS


def _pct(value) -> str:
    return "-" if value is None else f"{value:g}%"


def to_csv(report: dict) -> str:
    """One section after another: figure, item, value; money with two decimals."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "item", "visits", "value"])
    for row in report["revenue_by_channel"]:
        w.writerow(["revenue by channel", row["channel"], row["visits"], f"{row['revenue']:.2f}"])
    w.writerow(["revenue", "total", "", f"{report['revenue']:.2f}"])
    for row in report["treatments"]:
        w.writerow(["most requested treatments", row["treatment"], row["requests"], ""])
    nr = report["new_returning"]
    w.writerow(["patients seen", "new", "", nr["new"]])
    w.writerow(["patients seen", "returning", "", nr["returning"]])
    ret = report["retention"]
    w.writerow(["retention", f"{ret['retained']} of {ret['patients']} patients", "", _pct(ret["rate"])])
    return out.getvalue()


def _latin(text: str) -> str:
    """The PDF's core font covers Latin-1; anything else (an emoji in a practice name) becomes '?'."""
    return str(text).replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def to_pdf(report: dict) -> bytes:
    """A one- or two-page PDF of the report, with each figure's definition under its table."""
    from fpdf import FPDF  # why: fpdf2 (with fontTools) takes about a second to import; only the PDF needs it

    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_title(_latin(f"{report['practice']} - retention report {report['label']}"))
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"{report['practice']}: retention report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _latin(f"{report['label']}  -  revenue ${report['revenue']:,.2f}"), new_x="LMARGIN", new_y="NEXT")

    def table(title: str, head: list[str], rows: list[list[str]], definition: str) -> None:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        with pdf.table(col_widths=[3] + [1] * (len(head) - 1), text_align=["LEFT"] + ["RIGHT"] * (len(head) - 1)) as t:
            for line in [head] + (rows or [["nothing this month"] + [""] * (len(head) - 1)]):
                r = t.row()
                for cell in line:
                    r.cell(_latin(cell))
        pdf.set_font("Helvetica", "I", 8)
        pdf.multi_cell(0, 4, _latin(definition), new_x="LMARGIN", new_y="NEXT")

    table(
        "Revenue by channel",
        ["Channel", "Visits", "Revenue"],
        [[r["channel"], str(r["visits"]), f"${r['revenue']:,.2f}"] for r in report["revenue_by_channel"]],
        DEFINITIONS["revenue_by_channel"],
    )
    table(
        "Most requested treatments",
        ["Treatment", "Requests"],
        [[r["treatment"], str(r["requests"])] for r in report["treatments"]],
        DEFINITIONS["treatments"],
    )
    nr, ret = report["new_returning"], report["retention"]
    table(
        "Patients",
        ["Figure", "Value"],
        [
            ["New patients", str(nr["new"])],
            ["Returning patients", str(nr["returning"])],
            [f"Retention ({ret['retained']} of {ret['patients']})", _pct(ret["rate"])],
        ],
        DEFINITIONS["new_returning"] + " " + DEFINITIONS["retention"],
    )
    return bytes(pdf.output())
