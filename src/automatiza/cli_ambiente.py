"""Subcommands of the learning environment (added to `automatiza`): `aluno preparar|abrir`, `hub iniciar`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from automatiza.cli_options import positive
from automatiza.errors import FAILED, OK, SETUP, USAGE

Command = Callable[..., argparse.ArgumentParser]


def _aluno(args: argparse.Namespace, project) -> int:
    from automatiza import jupyterlab

    try:
        if args.acao == "abrir":
            return jupyterlab.open_lab(args.pasta, args.extra)
        copied = jupyterlab.prepare(project, args.pasta, args.troca, args.curso_id)
    except jupyterlab.WorkspaceError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return USAGE
    folder = args.pasta.expanduser().resolve()
    print(f"Pasta de estudo pronta em {folder}: {len(copied)} lição(ões) nova(s) em {jupyterlab.LESSONS}/.")
    print(f"Abra o JupyterLab do curso com: automatiza aluno abrir {folder}")
    return OK


def _hub(args: argparse.Namespace, project) -> int:
    from automatiza import hub

    try:
        settings = hub.settings_for(
            project,
            args.turma,
            args.instrutor,
            args.estado,
            ip=args.endereco,
            port=args.porta,
            auth=args.autenticacao,
            create_accounts=args.criar_contas,
            memory_mb=args.memoria,
            cpus=args.cpus,
            idle_minutes=args.ociosidade,
            db_url=args.banco or "",
        )
        if args.so_configurar:
            print(f"Configuração escrita em {hub.write(settings)}")
            return OK
        return OK if hub.run(settings, project) == 0 else FAILED
    except hub.HubError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return SETUP


def _capturas(args: argparse.Namespace, project) -> int:
    from automatiza import hub_tour

    try:
        tour = hub_tour.run(project, project.build / "capturas")
    except hub_tour.TourUnavailable as exc:
        print(f"Capturas de tela não geradas: {exc}. O site é construído sem elas.", file=sys.stderr)
        return OK if not args.exigir else SETUP
    print(f"{len(tour.screenshots)} capturas de tela em {project.build / 'capturas'}")
    return OK


def add_commands(sub: argparse._SubParsersAction, command: Command) -> None:
    """Add `aluno` and `hub` to the `automatiza` parser (`command` is build_parser's helper)."""
    p = command("aluno", _aluno, "prepara e abre o JupyterLab de quem aprende, em português")
    actions = p.add_subparsers(dest="acao", metavar="AÇÃO", required=True)
    prep = actions.add_parser(
        "preparar",
        help="cria (ou atualiza) a pasta de estudo com cópias das lições",
        description="Cria a pasta de estudo: cópias das lições (o repositório nunca é alterado), as tarefas "
        "buscadas no painel Assignments e a configuração do JupyterLab em português, sem as ferramentas "
        "de quem dá o curso.",
    )
    prep.add_argument("pasta", type=Path, metavar="PASTA", help="pasta de estudo, por exemplo ~/automatiza")
    prep.add_argument(
        "--troca", type=Path, default=None, metavar="PASTA", help="pasta de troca de tarefas da turma"
    )
    prep.add_argument("--curso-id", default="automatiza-mg", metavar="ID", help="id do curso no nbgrader")
    abrir = actions.add_parser("abrir", help="abre o JupyterLab na pasta de estudo")
    abrir.add_argument("pasta", type=Path, metavar="PASTA")
    abrir.add_argument("extra", nargs=argparse.REMAINDER, help="opções repassadas ao JupyterLab")

    p = command(
        "capturas",
        _capturas,
        "refaz as capturas de tela do site num JupyterHub de verdade (root, Chromium do Debian)",
    )
    p.add_argument("--exigir", action="store_true", help="falha (código 3) se a máquina não puder")

    p = command("hub", _hub, "JupyterHub da turma num servidor: contas locais, limites, em português")
    actions = p.add_subparsers(dest="acao", metavar="AÇÃO", required=True)
    start = actions.add_parser(
        "iniciar",
        help="inicia o JupyterHub da turma (como root)",
        description="Inicia um JupyterHub para a turma: quem está em alunos.csv entra com o próprio login "
        "e recebe o JupyterLab em português com as lições; o grupo 'instrutores' abre a turma com o "
        "formgrader. Limites de memória e CPU por pessoa; servidores ociosos são parados.",
    )
    start.add_argument("--turma", type=Path, required=True, metavar="PASTA", help="pasta da turma")
    start.add_argument(
        "--instrutor",
        action="append",
        metavar="LOGIN",
        help="login de quem dá o curso (pode repetir; padrão: o dono da pasta da turma)",
    )
    start.add_argument("--estado", type=Path, default=None, metavar="PASTA", help="padrão: PASTA-hub")
    start.add_argument("--endereco", default="127.0.0.1", metavar="IP", help="padrão: 127.0.0.1")
    start.add_argument("--porta", type=positive, default=8000, metavar="N", help="padrão: 8000")
    start.add_argument(
        "--autenticacao",
        choices=("sistema", "senha-compartilhada"),
        default="sistema",
        help="sistema: a senha da conta local (PAM); senha-compartilhada: uma senha para todos, lida da "
        "variável AUTOMATIZA_HUB_SENHA (só para testes e oficinas)",
    )
    start.add_argument("--criar-contas", action="store_true", help="cria as contas locais que faltarem")
    start.add_argument("--memoria", type=positive, default=2048, metavar="MB", help="padrão: 2048")
    start.add_argument("--cpus", type=float, default=1.0, metavar="N", help="por pessoa (padrão: 1)")
    start.add_argument(
        "--ociosidade",
        type=positive,
        default=60,
        metavar="MINUTOS",
        help="para quem fica parado (padrão: 60)",
    )
    start.add_argument(
        "--banco",
        default=None,
        metavar="URL",
        help="banco do JupyterHub, por exemplo postgresql://usuario:senha@servidor/hub "
        "(padrão: SQLite na pasta de estado)",
    )
    start.add_argument("--so-configurar", action="store_true", help="só escreve a configuração, sem iniciar")
