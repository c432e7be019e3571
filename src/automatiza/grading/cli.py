"""Subcommands of the cohort: `turma criar`, `corrigir`, `devolutiva`, `notas` (added to `automatiza`).

`automatiza.cli.build_parser()` calls `add_commands(sub, command)`. The same commands also run without the
course checkout as ``python -m automatiza.grading COMANDO ...`` (corrigir, devolutiva and notas only need
the cohort folder).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from automatiza.cli_options import positive
from automatiza.errors import FAILED, OK

Command = Callable[..., argparse.ArgumentParser]


def _default_jobs() -> int:
    """One notebook more than the cores: while a kernel waits on the grader's requests its core would be
    idle (100 submissions on 2 cores: 3 at a time took about 5% less than 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores + 1


def _course(folder: Path):
    from automatiza.grading import coursedir

    return coursedir.load(folder)


def _turma(args: argparse.Namespace, project) -> int:
    from automatiza.grading import cohort

    if args.acao == "conferir":
        return cohort.command_check(args)
    return cohort.command_create(args, project)


def _stop(number: int, _frame: object) -> None:
    """SIGTERM ends `corrigir` like Ctrl+C: tasks cancelled, kernels and zygote stopped, saved work kept."""
    raise KeyboardInterrupt


def _skip_unused_format_checkers() -> None:
    """Keep jsonschema from importing `rfc3987_syntax` (about 2 s of CPU compiling grammars at start-up).

    jsonschema imports it, when installed, only to register the optional "iri" format checker; nothing in
    the grader validates formats (nbformat and nbgrader build their validators without a format checker), so
    no validation result changes. Must run before jsonschema is imported; does nothing if it already was."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type] - None: "not installed"


YOUNG_COLLECTION = 20_000  # allocations between two runs of Python's cycle collector (default: 700)


def _fewer_collections() -> None:
    """Run Python's cycle collector less often in the grader process (not in the kernels: they are forked
    from the zygote, another process). With the default it ran about 600 times in 100 submissions and its
    full passes walked every object nbgrader, SQLAlchemy and nbconvert create at import; `_grade` freezes
    those after the imports (`gc.freeze`). Only when cyclic garbage is freed changes, never what runs."""
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


def _corrigir(args: argparse.Namespace, project=None) -> int:
    from automatiza.grading import kernels

    previous = signal.signal(signal.SIGTERM, _stop), signal.getsignal(signal.SIGINT)
    _skip_unused_format_checkers()
    _fewer_collections()

    base = zygote = None
    try:
        stops = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # a stop now is handled once `base` is known
        try:
            base = kernels.make_base() if args.turma.is_dir() else None
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
        # the zygote starts importing the kernel's Python now, while this process imports nbgrader
        zygote = kernels.Zygote.launch(base) if base is not None else None
        return _grade(args, zygote)
    except KeyboardInterrupt:
        print(
            "\nCorreção interrompida: o que já foi corrigido está salvo no banco de notas e em autograded/; "
            "rode o mesmo comando para continuar.",
            file=sys.stderr,
        )
        raise
    finally:
        # a second SIGTERM or Ctrl+C must not leave the clean-up half done (a zygote or its folder behind)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if zygote is not None:
            zygote.discard()
        elif base is not None:
            shutil.rmtree(base, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _grade(args: argparse.Namespace, zygote) -> int:
    from automatiza.grading import grader
    from automatiza.grading.sandbox import isolation

    course = _course(args.turma)
    gc.freeze()  # what the imports made stays out of the collections from now on (see _fewer_collections)
    limits = isolation.Limits(
        cpu_seconds=args.limite_cpu, memory_mb=args.memoria, notebook_seconds=args.tempo_limite
    )
    report = grader.grade(
        course,
        args.tarefa,
        jobs=args.jobs or _default_jobs(),
        force=args.forcar,
        students=args.aluno,
        limits=limits,
        zygote=zygote,
        full_tracebacks=args.tracebacks_completos,
        isolated=not args.sem_isolamento,
    )
    print(report.summary())
    _refresh_panel(course)
    if not report.ok:
        print(
            "\nAlgumas entregas não puderam ser corrigidas: veja os erros acima e "
            f"{course.private / 'grader.log'}.",
            file=sys.stderr,
        )
    return OK if report.ok else FAILED


def _refresh_panel(course) -> None:
    """Regenerate the cohort panel after grading; a panel problem never turns a grading run into a failure."""
    from automatiza import cohort_panel

    try:
        files = cohort_panel.write(course)
    except (OSError, ValueError) as exc:  # the grades are saved; the panel is only a view of them
        print(f"aviso: não consegui atualizar o painel ({type(exc).__name__}: {exc})", file=sys.stderr)
    else:
        print(f"Painel da turma atualizado: {files['html']}")


def _devolutiva(args: argparse.Namespace, project=None) -> int:
    from automatiza.grading import feedback

    course = _course(args.turma)
    written = feedback.generate(course, args.tarefa, args.aluno)
    if not written:
        print(
            f"Nenhuma entrega corrigida de '{args.tarefa}'. Rode antes: automatiza corrigir {args.tarefa} "
            f"--turma {course.root}",
            file=sys.stderr,
        )
        return FAILED
    print(
        f"{len(written)} devolutiva(s) em {course.root / course.coursedir.feedback_directory}/<aluno>/"
        f"{args.tarefa}/ (entregue com: nbgrader release_feedback {args.tarefa})."
    )
    for warning in feedback.warnings(course, args.tarefa):
        print(warning, file=sys.stderr)
    return OK


def _notas(args: argparse.Namespace, project=None) -> int:
    from automatiza.grading import export

    course = _course(args.turma)
    extension = "xlsx" if args.formato == "xlsx" else "csv"
    suffix = "-moodle" if args.formato == "moodle" else ""
    today = datetime.date.today().isoformat()
    path = args.saida or course.root / "notas" / f"notas{suffix}-{today}.{extension}"
    students, assignments = export.export(course, args.formato, path, args.tarefa)
    print(f"Notas de {students} aluno(s) em {assignments} tarefa(s): {path}")
    if args.formato == "moodle":
        print(
            "No Moodle: Notas > Importar > Arquivo CSV; identifique os usuários por 'email' e associe cada "
            "coluna de tarefa ao item de nota correspondente."
        )
    return OK


def _course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--turma",
        type=Path,
        required=True,
        metavar="PASTA",
        help="pasta da turma (um curso do nbgrader, criado ou não com 'turma criar')",
    )


def add_commands(sub: argparse._SubParsersAction, command: Command) -> None:
    """Add turma/corrigir/devolutiva/notas to the `automatiza` parser (`command` is build_parser's helper)."""
    p = command(
        "turma", _turma, "cria uma turma: pasta de curso do nbgrader fora do repositório, com os alunos"
    )
    actions = p.add_subparsers(dest="acao", metavar="AÇÃO", required=True)
    criar = actions.add_parser(
        "criar",
        help="cria a pasta da turma e importa os alunos",
        description="Cria a pasta da turma (fora do repositório: dados pessoais, LGPD), "
        "configurada como curso do nbgrader com os exercícios do repositório.",
    )
    criar.add_argument("pasta", type=Path, metavar="PASTA", help="pasta nova da turma")
    criar.add_argument(
        "--alunos",
        type=Path,
        required=True,
        metavar="CSV",
        help="planilha CSV com as colunas id, nome, email, instituicao",
    )
    criar.add_argument(
        "--banco",
        default=None,
        metavar="URL",
        help="banco de notas como URL do SQLAlchemy, por exemplo postgresql://... "
        "(padrão: SQLite em PASTA/gradebook.db)",
    )
    criar.add_argument("--curso-id", default="automatiza-mg", metavar="ID", help="id do curso no nbgrader")
    criar.add_argument(
        "--troca",
        type=Path,
        default=None,
        metavar="PASTA",
        help="pasta de troca de tarefas com quem aprende (padrão: PASTA-troca, ao lado da turma)",
    )
    conferir = actions.add_parser(
        "conferir",
        help="confere a planilha contra as entregas e os logins do JupyterHub",
        description="Lista quem entregou sem estar em alunos.csv, quem não entregou cada tarefa liberada e "
        "quem nunca entrou no JupyterHub da turma.",
    )
    conferir.add_argument("pasta", type=Path, metavar="PASTA", help="pasta da turma")
    conferir.add_argument("--curso-id", default="automatiza-mg", metavar="ID", help="id do curso no nbgrader")

    p = command(
        "corrigir",
        _corrigir,
        "corrige as entregas de uma tarefa em paralelo, com o código dos alunos isolado",
    )
    p.set_defaults(precisa_curso=False)
    p.add_argument("tarefa", metavar="TAREFA", help="nome da tarefa, por exemplo 01-python-essencial")
    _course_option(p)
    p.add_argument(
        "--jobs",
        "-j",
        type=positive,
        default=None,
        metavar="N",
        help="quantas entregas corrigir ao mesmo tempo (padrão: número de núcleos + 1)",
    )
    p.add_argument("--aluno", action="append", metavar="ID", help="corrige só este aluno (pode repetir)")
    p.add_argument("--forcar", action="store_true", help="corrige de novo o que já foi corrigido")
    p.add_argument(
        "--tempo-limite",
        type=positive,
        default=900,
        metavar="SEGUNDOS",
        help="tempo máximo de cada notebook (padrão: 900); o de cada célula vem do nbgrader "
        "(Execute.timeout)",
    )
    p.add_argument(
        "--limite-cpu",
        type=positive,
        default=600,
        metavar="SEGUNDOS",
        help="tempo de CPU máximo de cada kernel (padrão: 600)",
    )
    p.add_argument(
        "--memoria",
        type=positive,
        default=3072,
        metavar="MB",
        help="memória máxima de cada kernel (padrão: 3072)",
    )
    p.add_argument(
        "--sem-isolamento",
        action="store_true",
        help="corrige mesmo onde o código dos alunos não pode ser isolado (ele roda como você, lê os seus "
        "arquivos e tem rede); o resumo e o relatório registram. Sem esta opção, o corretor se recusa",
    )
    p.add_argument(
        "--tracebacks-completos",
        action="store_true",
        help="grava em autograded/ os tracebacks completos do IPython, como o nbgrader (mais lento; "
        "as notas são as mesmas)",
    )

    p = command(
        "devolutiva",
        _devolutiva,
        "gera as devolutivas em HTML (pontos por questão e mensagens, nunca o código dos testes)",
    )
    p.set_defaults(precisa_curso=False)
    p.add_argument("tarefa", metavar="TAREFA")
    _course_option(p)
    p.add_argument("--aluno", action="append", metavar="ID", help="só este aluno (pode repetir)")

    p = command("notas", _notas, "exporta as notas da turma (CSV, Excel ou CSV de importação do Moodle)")
    p.set_defaults(precisa_curso=False)
    _course_option(p)
    p.add_argument(
        "--formato",
        choices=("csv", "xlsx", "moodle"),
        default="csv",
        help="csv (;, vírgula decimal), xlsx ou moodle (padrão: csv)",
    )
    p.add_argument(
        "--saida",
        type=Path,
        default=None,
        metavar="ARQUIVO",
        help="arquivo de saída (padrão: PASTA/notas/notas-<data>.<ext>)",
    )
    p.add_argument("--tarefa", action="append", metavar="TAREFA", help="só esta tarefa (pode repetir)")
