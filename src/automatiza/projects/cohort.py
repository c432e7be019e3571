"""The cohort's results: every project of a cohort and the hours saved per month by institution.

The intercâmbio puts state and city servants side by side, so totals are shown per sphere (Estado,
Município) and per institution. Output: a CSV, a Markdown page for the course site and a standalone HTML.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from automatiza.projects.impact import br
from automatiza.projects.results import SPHERE, Project


def table(projects: list[Project]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "projeto": p.canvas.projeto,
                "instituicao": p.canvas.instituicao,
                "esfera": SPHERE[p.canvas.esfera],
                "unidade": p.canvas.unidade,
                "resumo": p.canvas.resumo,
                "horas_economizadas_mes": round(p.impact.hours_saved, 1),
            }
            for p in projects
        ]
    )


def by_institution(frame: pd.DataFrame) -> pd.DataFrame:
    return (
        frame.groupby(["esfera", "instituicao"], as_index=False)
        .agg(projetos=("projeto", "count"), horas_economizadas_mes=("horas_economizadas_mes", "sum"))
        .sort_values(["esfera", "horas_economizadas_mes"], ascending=[True, False])
    )


def markdown(projects: list[Project], title: str) -> str:
    """A page a citizen can read: totals side by side, then one card per project with its assumptions."""
    frame = table(projects)
    totals = frame.groupby("esfera")["horas_economizadas_mes"].sum()
    lines = [
        f"# {title}",
        "",
        f"{len(frame)} projeto(s), **{br(frame['horas_economizadas_mes'].sum(), 1)} horas economizadas por "
        "mês** no total: horas de trabalho de pessoas que o robô devolveu à equipe, já descontados o tempo "
        "do robô e a manutenção.",
        "",
        "| esfera | horas economizadas por mês |",
        "| --- | ---: |",
    ]
    lines += [f"| {sphere} | {br(totals.get(sphere, 0.0), 1)} |" for sphere in ("Estado", "Município")]
    lines += [
        "",
        "## Por instituição",
        "",
        "| esfera | instituição | projetos | horas por mês |",
        "| --- | --- | ---: | ---: |",
    ]
    for row in by_institution(frame).itertuples():
        lines.append(
            f"| {row.esfera} | {row.instituicao} | {row.projetos} | {br(row.horas_economizadas_mes, 1)} |"
        )
    lines += ["", "## Projetos", ""]
    for project in sorted(projects, key=lambda p: -p.impact.hours_saved):
        c = project.canvas
        lines += [
            f"### {c.projeto}",
            "",
            f"{c.instituicao} ({SPHERE[c.esfera]}), {c.unidade}.",
            "",
            c.resumo,
            "",
            f"**{project.headline}.** De onde vem o número:",
            "",
            *[f"- {a}" for a in project.impact.assumptions()],
            "",
        ]
    return "\n".join(lines)


def write(folders: list[Path], output: Path, title: str = "Resultados da turma") -> dict[str, Path]:
    """Read every package in `folders` and write resultados.csv, resultados.md and resultados.html."""
    projects = [Project.read(folder) for folder in folders]
    frame = table(projects)
    output.mkdir(parents=True, exist_ok=True)
    files = {
        "csv": output / "resultados.csv",
        "md": output / "resultados.md",
        "html": output / "resultados.html",
    }
    frame.to_csv(files["csv"], sep=";", decimal=",", index=False, encoding="utf-8")
    page = markdown(projects, title)
    files["md"].write_text(page, encoding="utf-8")
    body = frame.to_html(index=False, escape=True, border=0)
    files["html"].write_text(
        "<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>"
        f"{by_institution(frame).to_html(index=False, border=0)}{body}</main></body></html>",
        encoding="utf-8",
    )
    return files
