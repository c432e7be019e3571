"""Results of a project for the event: a report (HTML and DOCX), slides (PPTX) and a one-page summary.

Every number comes from `impact.measure` (the package's own data), with its assumptions printed next to
it. Slides use python-pptx on a neutral template; an agency may pass its own .pptx as the template.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from docx import Document  # noqa: E402
from docx.shared import Cm  # noqa: E402
from pptx import Presentation  # noqa: E402
from pptx.util import Inches, Pt  # noqa: E402

from automatiza.projects.canvas import CANVAS_FILE, Canvas, load  # noqa: E402
from automatiza.projects.impact import Impact, br, measure  # noqa: E402

SPHERE = {"estadual": "Estado", "municipal": "Município"}


@dataclass(frozen=True)
class Project:
    folder: Path
    canvas: Canvas
    impact: Impact

    @classmethod
    def read(cls, folder: Path) -> Project:
        canvas = load(folder / CANVAS_FILE)
        return cls(folder, canvas, measure(folder, canvas))

    @property
    def headline(self) -> str:
        return f"{br(self.impact.hours_saved, 1)} horas economizadas por mês"

    def chart_alt(self) -> str:
        i = self.impact
        return (
            f"Gráfico de barras: antes do robô, {br(i.human_hours_before, 1)} horas de pessoas por mês; "
            f"depois, {br(i.human_hours_after, 1)} horas de pessoas, {br(i.robot_hours, 2)} horas do robô e "
            f"{br(i.maintenance_hours, 1)} horas de manutenção."
        )


def chart(project: Project, path: Path) -> Path:
    """Stacked bars: hours per month before and after the robot (people, robot, maintenance)."""
    i = project.impact
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.bar(["Antes"], [i.human_hours_before], color="#1f4e79", label="Pessoas")
    ax.bar(["Depois"], [i.human_hours_after], color="#1f4e79")
    ax.bar(["Depois"], [i.robot_hours], bottom=[i.human_hours_after], color="#e69f00", label="Robô")
    ax.bar(
        ["Depois"],
        [i.maintenance_hours],
        bottom=[i.human_hours_after + i.robot_hours],
        color="#009e73",
        label="Manutenção",
    )
    ax.set_ylabel("Horas por mês")
    ax.set_title(f"{project.canvas.projeto}: {project.headline}", fontsize=10)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _sections(project: Project) -> list[tuple[str, list[str]]]:
    c, i = project.canvas, project.impact
    return [
        ("O problema", [c.problema]),
        ("A meta", [c.meta]),
        (
            "Quem",
            [
                f"Instituição: {c.instituicao} ({SPHERE[c.esfera]}), {c.unidade}.",
                f"Dono do processo: {c.dono_do_processo}.",
                "Equipe: " + "; ".join(c.equipe) + ".",
            ],
        ),
        (
            "Impacto",
            [
                f"{project.headline}: {br(i.human_hours_before, 1)} h de pessoas antes, "
                f"{br(i.human_hours_after, 1)} h depois, menos {br(i.robot_hours, 2)} h do robô e "
                f"{br(i.maintenance_hours, 1)} h de manutenção.",
            ],
        ),
        ("Premissas do número", i.assumptions() + list(c.premissas)),
        (
            "Dados, riscos e LGPD",
            [f"{d.nome}: {d.origem}" + (" (dados pessoais)" if d.dados_pessoais else "") for d in c.dados]
            + list(c.riscos)
            + [c.lgpd],
        ),
        ("Quem mantém", [c.manutencao]),
    ]


def html_report(project: Project, image: Path) -> str:
    """One self-contained HTML page (the chart embedded), readable without Python or internet."""
    png = base64.b64encode(image.read_bytes()).decode()
    parts = [
        "<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'>",
        f"<title>{html.escape(project.canvas.projeto)}</title>",
        "<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "img{max-width:100%}</style></head><body><main>",
        f"<h1>{html.escape(project.canvas.projeto)}</h1>",
        f"<p><strong>{html.escape(project.canvas.resumo)}</strong></p>",
        f"<p>{html.escape(project.headline)}</p>",
        f"<img src='data:image/png;base64,{png}' alt='{html.escape(project.chart_alt(), quote=True)}'>",
    ]
    for title, paragraphs in _sections(project):
        parts.append(f"<h2>{html.escape(title)}</h2><ul>")
        parts += [f"<li>{html.escape(p)}</li>" for p in paragraphs]
        parts.append("</ul>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def docx_report(project: Project, image: Path, path: Path) -> Path:
    doc = Document()
    doc.add_heading(project.canvas.projeto, level=0)
    doc.add_paragraph(project.canvas.resumo)
    doc.add_paragraph(project.headline).runs[0].bold = True
    doc.add_picture(str(image), width=Cm(15))
    doc.add_paragraph(project.chart_alt()).italic = True
    for title, paragraphs in _sections(project):
        doc.add_heading(title, level=1)
        for text in paragraphs:
            doc.add_paragraph(text, style="List Bullet")
    doc.save(path)
    return path


def _bullets(slide, lines: list[str]) -> None:
    body = next(p for p in slide.placeholders if p.placeholder_format.idx == 1)
    frame = body.text_frame
    frame.text = lines[0]
    for line in lines[1:]:
        frame.add_paragraph().text = line
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(18)


def slides(project: Project, image: Path, path: Path, template: Path | None = None) -> Path:
    """A short deck: title, problem, solution and goal, impact (chart), assumptions, replication."""
    deck = Presentation(str(template)) if template else Presentation()
    title_layout, content_layout, title_only = (
        deck.slide_layouts[0],
        deck.slide_layouts[1],
        deck.slide_layouts[5],
    )
    c = project.canvas
    first = deck.slides.add_slide(title_layout)
    first.shapes.title.text = c.projeto
    first.placeholders[1].text = f"{c.instituicao} ({SPHERE[c.esfera]}) · {c.unidade}"
    for title, lines in [
        ("O problema", [c.problema]),
        ("A solução e a meta", [c.resumo, c.meta]),
    ]:
        slide = deck.slides.add_slide(content_layout)
        slide.shapes.title.text = title
        _bullets(slide, lines)
    impact = deck.slides.add_slide(title_only)
    impact.shapes.title.text = project.headline
    picture = impact.shapes.add_picture(str(image), Inches(1.2), Inches(1.6), width=Inches(7.6))
    picture._element.nvPicPr.cNvPr.set("descr", project.chart_alt())  # alt text for screen readers
    for title, lines in [
        ("De onde vem o número", project.impact.assumptions()),
        ("Para replicar", ["Pacote com README, dois comandos, dados de exemplo e testes.", c.manutencao]),
    ]:
        slide = deck.slides.add_slide(content_layout)
        slide.shapes.title.text = title
        _bullets(slide, lines)
    deck.save(path)
    return path


def summary(project: Project) -> str:
    """The one-page summary for the event program (Markdown)."""
    c = project.canvas
    return "\n".join(
        [
            f"# {c.projeto}",
            "",
            f"**{c.instituicao}** ({SPHERE[c.esfera]}), {c.unidade}",
            "",
            c.resumo,
            "",
            f"**{project.headline}**",
            "",
            "Premissas:",
            *[f"- {a}" for a in project.impact.assumptions()],
            "",
            f"Quem mantém: {c.manutencao}",
            "",
        ]
    )


def render(folder: Path, output: Path, template: Path | None = None) -> dict[str, Path]:
    """Write the report (HTML, DOCX), the slides (PPTX), the summary and the chart into `output`."""
    project = Project.read(folder)
    output.mkdir(parents=True, exist_ok=True)
    image = chart(project, output / "impacto.png")
    files = {"grafico": image}
    files["html"] = output / "relatorio.html"
    files["html"].write_text(html_report(project, image), encoding="utf-8")
    files["docx"] = docx_report(project, image, output / "relatorio.docx")
    files["pptx"] = slides(project, image, output / "apresentacao.pptx", template)
    files["resumo"] = output / "resumo.md"
    files["resumo"].write_text(summary(project), encoding="utf-8")
    return files
