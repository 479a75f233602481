"""Generic table formatting: Markdown tables padded to line up, booktabs LaTeX tables, cell formats.

Used by the tables of one evaluation (``gaitgraph.evaluation.report``), the paper tables
(``gaitgraph.paper.tables``) and the ablation table (``gaitgraph.ablation.table``). Imports nothing
but the standard library, so the small plotting environment can use it.
"""

from __future__ import annotations

DASH = "–"  # shown for a missing value (an excluded cell, no sequence, no run)


def fmt(x, digits: int = 1) -> str:
    """``x`` with ``digits`` decimals, or DASH for None."""
    return DASH if x is None else f"{x:.{digits}f}"


def markdown_table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A Markdown table padded so that its columns line up in plain text too.

    ``align``: one letter per column, ``l`` or ``r`` (default: first column left, others right).
    """
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    widths = [max(w, 3) for w in widths]

    def line(cells):
        out = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(cells, widths, align)]
        return "| " + " | ".join(out) + " |"

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if a == "r" else ("-" * w) for w, a in zip(widths, align)) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
          "$": r"\$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "–": "--", "—": "---", "±": r"$\pm$",
          "×": r"$\times$", "°": r"$^\circ$", "`": ""}


def latex_escape(s) -> str:
    """``s`` as LaTeX text: special characters escaped, dashes, ±, × and ° as LaTeX, backquotes dropped."""
    return "".join(_LATEX.get(ch, ch) for ch in str(s))


def latex_table(header: list[str], rows: list[list[str]], *, caption: str, label: str, align: str | None = None,
                size: str = "small", bold_last_col: bool = False, rule_before_last_row: bool = False) -> str:
    """A booktabs ``table`` (needs ``\\usepackage{booktabs}``); cells are escaped here.

    ``align``: the tabular column letters (default: first column left, others right); ``size``: the
    font size command inside the table (``small``, ``scriptsize``, ...).
    """
    cols = align or "l" + "r" * (len(header) - 1)
    body = []
    for i, r in enumerate(rows):
        if rule_before_last_row and i == len(rows) - 1:
            body.append(r"\midrule")
        cells = [latex_escape(c) for c in r]
        if bold_last_col and cells[-1] != "--":
            cells[-1] = r"\textbf{" + cells[-1] + "}"
        body.append(" & ".join(cells) + r" \\")
    return "\n".join([
        r"\begin{table}[t]",
        r"\centering",
        "\\" + size,
        r"\caption{" + latex_escape(caption) + "}",
        r"\label{" + label + "}",
        r"\begin{tabular}{" + cols + "}",
        r"\toprule",
        " & ".join(latex_escape(h) for h in header) + r" \\",
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ])
