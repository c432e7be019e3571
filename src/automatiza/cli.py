"""The `automatiza` command line: pt-BR help and exit codes that scripts can trust."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from automatiza import __version__
from automatiza.cli_options import positive
from automatiza.errors import EXIT_CODES, FAILED, INTERRUPTED, OK, SETUP, USAGE, CommandError
from automatiza.paths import Project

__all__ = ["EXIT_CODES", "FAILED", "OK", "SETUP", "USAGE", "build_parser", "main", "positive"]

_PT_BR = {
    "usage: ": "uso: ",
    "positional arguments": "argumentos",
    "options": "opções",
    "show this help message and exit": "mostra esta ajuda e sai",
    "show program's version number and exit": "mostra a versão e sai",
    "%(prog)s: error: %(message)s\n": "%(prog)s: erro: %(message)s\n",
    "the following arguments are required: %s": "faltam os argumentos: %s",
    "unrecognized arguments: %s": "argumentos desconhecidos: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "opção inválida: %(value)r (escolha entre %(choices)s)"
    ),
    "argument %(argument_name)s: %(message)s": "argumento %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "valor inválido: %(value)r",
    "expected one argument": "esperava um valor",
    "ambiguous option: %(option)s could match %(matches)s": "opção ambígua: %(option)s pode ser %(matches)s",
}
argparse._ = lambda text: _PT_BR.get(text, text)  # argparse has no pt-BR catalog; translate its few strings

Handler = Callable[[argparse.Namespace, Project], int]


def _add_execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        "-j",
        type=positive,
        default=None,
        metavar="N",
        help="quantos notebooks executar ao mesmo tempo (padrão: número de núcleos)",
    )
    parser.add_argument(
        "--tempo-limite",
        type=positive,
        default=600,
        metavar="SEGUNDOS",
        help="tempo máximo de cada notebook (padrão: 600)",
    )


def _verificar(args: argparse.Namespace, project: Project) -> int:
    from automatiza import checks

    return OK if checks.report(project) else FAILED


def _executar(args: argparse.Namespace, project: Project) -> int:
    from automatiza import execute

    modules = [project.curriculum().module(m).id for m in args.modulo] if args.modulo else None
    result = execute.run_course(project, jobs=args.jobs, timeout=args.tempo_limite, modules=modules)
    return OK if result.ok else FAILED


def _liberar(args: argparse.Namespace, project: Project) -> int:
    from automatiza import release

    return OK if release.release_all(project) else FAILED


def _catalogo(args: argparse.Namespace, project: Project) -> int:
    from automatiza import catalog

    cur = project.curriculum()
    written = [m.tarefa.nome for m in cur.written if m.tarefa]
    names = [cur.module(t).tarefa.nome if t.isdigit() else t for t in args.tarefa] if args.tarefa else written
    if unknown := [n for n in names if not (project.exercises / n).is_dir()]:
        print(f"erro: tarefa(s) desconhecida(s): {', '.join(unknown)}", file=sys.stderr)
        return USAGE
    return OK if catalog.report(project, names, args.jobs or 1) else FAILED


def _painel(args: argparse.Namespace, project: Project) -> int:
    from automatiza import cohort_panel
    from automatiza.grading import coursedir

    try:
        files = cohort_panel.write(coursedir.load(args.turma))
    except coursedir.CourseError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return SETUP
    print(
        f"Painel da turma: {files['html']} (e as planilhas {files['pessoas'].name}, "
        f"{files['questoes'].name} e {files['instituicoes'].name})"
    )
    return OK


def _livro(args: argparse.Namespace, project: Project) -> int:
    from automatiza import book

    return OK if book.build(project) else FAILED


def _capturas_do_site(args: argparse.Namespace, project: Project) -> int:
    """Fresh screenshots of the real JupyterHub for the site, unless asked not to or the machine can't."""
    if args.sem_capturas:
        print("Capturas de tela não refeitas (--sem-capturas): o site usa as que houver em build/capturas.")
        return OK
    from automatiza.cli_ambiente import _capturas

    return _capturas(argparse.Namespace(exigir=False), project)


def _construir(args: argparse.Namespace, project: Project) -> int:
    steps: list[tuple[str, Handler]] = [
        ("verificar", _verificar),
        ("executar", _executar),
        ("liberar", _liberar),
        ("capturas", _capturas_do_site),
        ("livro", _livro),
    ]
    for name, step in steps:
        print(f"\n=== automatiza {name} ===", flush=True)
        code = step(args, project)
        if code != OK:
            print(f"\nA construção parou na etapa '{name}'.", file=sys.stderr)
            return code
    print(f"\nCurso construído. Abra {project.site_html / 'index.html'} no navegador.")
    return OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automatiza",
        description="Ferramentas do curso Automatiza.MG: verificar, executar, liberar e publicar o curso.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--versao", action="version", version=f"automatiza {__version__}", help="mostra a versão e sai"
    )
    parser.add_argument(
        "--raiz",
        type=Path,
        default=None,
        metavar="PASTA",
        help="pasta do curso (padrão: a pasta atual ou a mais próxima acima com curriculum/)",
    )
    parser.add_argument(
        "--saida",
        type=Path,
        default=None,
        metavar="PASTA",
        help="pasta dos arquivos gerados (padrão: build/ dentro da pasta do curso)",
    )
    sub = parser.add_subparsers(dest="comando", metavar="COMANDO", required=True)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    command(
        "verificar",
        _verificar,
        "confere o programa contra os arquivos: notebooks, tarefas, metadados do nbgrader e saídas",
    )
    p = command(
        "executar", _executar, "executa lições e exercícios (com soluções) em paralelo com o papermill"
    )
    _add_execution_options(p)
    p.add_argument(
        "--modulo",
        "-m",
        action="append",
        metavar="ID",
        help="executa só este módulo (pode repetir), por exemplo --modulo 01",
    )
    command(
        "liberar", _liberar, "gera as versões de estudante com o nbgrader e confere que nenhuma solução vazou"
    )
    p = command(
        "catalogo",
        _catalogo,
        "corrige com o nbgrader a solução, a versão de estudante e cada resposta errada do catálogo "
        "(exercises/<tarefa>/respostas-erradas.yml) e confere que cada uma perde pontos",
    )
    p.add_argument("tarefa", nargs="*", help="tarefas ou ids de módulo (padrão: todas as escritas)")
    p.add_argument("--jobs", "-j", type=positive, default=None, metavar="N", help="tarefas ao mesmo tempo")
    p = command(
        "painel",
        _painel,
        "painel da turma para quem dá o curso: progresso por pessoa, questões em que mais se perde ponto "
        "(com a falha mais comum) e resumo por instituição, em HTML e CSV dentro da pasta da turma",
    )
    p.add_argument("--turma", type=Path, required=True, metavar="PASTA", help="pasta da turma")
    command("livro", _livro, "constrói o site do curso (Jupyter Book) a partir dos notebooks executados")
    p = command("construir", _construir, "faz tudo: verificar, executar, liberar, capturas e livro")
    _add_execution_options(p)
    p.add_argument(
        "--sem-capturas",
        action="store_true",
        help="não refaz as capturas de tela no JupyterHub (elas pedem root e o Chromium do Debian)",
    )
    p.set_defaults(modulo=None)

    from automatiza.grading import cli as correcao_cli  # turma criar, corrigir, devolutiva, notas

    correcao_cli.add_commands(sub, command)

    from automatiza import cli_ambiente  # aluno preparar|abrir, hub iniciar

    cli_ambiente.add_commands(sub, command)

    from automatiza.projects import cli as projects_cli  # projeto novo|verificar|resultados|turma

    projects_cli.add_commands(sub, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # the cohort commands (corrigir, devolutiva, notas) need only the cohort folder, not this checkout
        project = Project.at(args.raiz, args.saida) if getattr(args, "precisa_curso", True) else None
        return args.handler(args, project)
    except CommandError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return exc.exit_code
    except FileNotFoundError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return SETUP
    except KeyboardInterrupt:
        print("\nInterrompido.", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
