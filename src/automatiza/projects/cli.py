"""`automatiza projeto ...`: create, check and present a real project's replication package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from automatiza.paths import Project

OK, FAILED, USAGE = 0, 1, 2


def _novo(args: argparse.Namespace, project: Project) -> int:
    from automatiza.projects import scaffold

    target = (args.pasta or Path.cwd()) / args.nome
    try:
        scaffold.create(
            target, args.titulo or args.nome.replace("-", " ").capitalize(), args.instituicao, args.esfera
        )
    except scaffold.ScaffoldError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return USAGE
    print(
        f"Pacote criado em {target}.\nPróximos passos: preencha {target / 'canvas.yml'}, troque o robô e os "
        f"dados de exemplo pelos seus e rode `automatiza projeto verificar {target}`."
    )
    return OK


def _verificar(args: argparse.Namespace, project: Project) -> int:
    from automatiza.projects import verify

    print(f"Conferindo {args.pasta} (instalar num ambiente novo pode levar alguns minutos)...", flush=True)
    report = verify.verify(args.pasta, run=not args.sem_executar, reuse_environment=args.ambiente_atual)
    print(report.describe())
    if args.relatorio:
        args.relatorio.write_text(report.to_json(), encoding="utf-8")
    return OK if report.ok else FAILED


def _resultados(args: argparse.Namespace, project: Project) -> int:
    from automatiza.projects import results
    from automatiza.projects.canvas import CanvasError
    from automatiza.projects.impact import ImpactError

    output = args.saida or args.pasta / "resultados"
    try:
        files = results.render(args.pasta, output, args.modelo_pptx)
    except (CanvasError, ImpactError) as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return FAILED
    for kind, path in files.items():
        print(f"  {kind}: {path}")
    return OK


def _turma(args: argparse.Namespace, project: Project) -> int:
    from automatiza.projects import cohort
    from automatiza.projects.canvas import CanvasError
    from automatiza.projects.impact import ImpactError

    try:
        files = cohort.write(args.pastas, args.saida, args.titulo)
    except (CanvasError, ImpactError) as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return FAILED
    for kind, path in files.items():
        print(f"  {kind}: {path}")
    return OK


def add_commands(sub: argparse._SubParsersAction, command) -> None:
    """Register `automatiza projeto novo|verificar|resultados|turma`."""
    parent = command(
        "projeto", None, "pacotes de replicação dos projetos reais: criar, conferir e apresentar"
    )
    inner = parent.add_subparsers(dest="acao", metavar="AÇÃO", required=True)

    def action(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        p = inner.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = action("novo", _novo, "cria um pacote de replicação (README, robô, dados de exemplo, testes, canvas)")
    p.add_argument("nome", help="nome da pasta: letras minúsculas, números e hífens")
    p.add_argument("--pasta", type=Path, default=None, help="onde criar (padrão: a pasta atual)")
    p.add_argument("--titulo", default=None, help="título do projeto")
    p.add_argument("--instituicao", default="Secretaria de Estado de Planejamento e Gestão (Seplag-MG)")
    p.add_argument("--esfera", choices=["estadual", "municipal"], default="estadual")

    p = action("verificar", _verificar, "confere um pacote como o órgão que vai recebê-lo")
    p.add_argument("pasta", type=Path)
    p.add_argument("--sem-executar", action="store_true", help="só confere arquivos e dados, sem instalar")
    p.add_argument("--ambiente-atual", action="store_true", help="usa este Python em vez de um ambiente novo")
    p.add_argument(
        "--relatorio", type=Path, default=None, metavar="ARQUIVO", help="grava o relatório em JSON"
    )

    p = action("resultados", _resultados, "relatório (HTML e DOCX), slides (PPTX) e resumo para o evento")
    p.add_argument("pasta", type=Path)
    p.add_argument("--saida", type=Path, default=None, help="padrão: PASTA/resultados")
    p.add_argument("--modelo-pptx", type=Path, default=None, help="modelo de slides do órgão (.pptx)")

    p = action("turma", _turma, "página de resultados da turma: horas economizadas por instituição")
    p.add_argument("pastas", type=Path, nargs="+", help="pastas dos pacotes dos projetos")
    p.add_argument("--saida", type=Path, required=True)
    p.add_argument("--titulo", default="Resultados da turma")
