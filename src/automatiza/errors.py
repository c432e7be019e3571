"""Exit codes of `automatiza` and the typed errors that map to them.

A command that cannot do its work raises a `CommandError` subclass with a pt-BR message; `automatiza.cli.main`
prints it as ``erro: <mensagem>`` and exits with the error's code. No message text is ever matched.
"""

from __future__ import annotations

OK, FAILED, USAGE, SETUP, INTERRUPTED = 0, 1, 2, 3, 130

EXIT_CODES = """\
códigos de saída:
  0  tudo certo
  1  o trabalho falhou (notebook com erro, vazamento de solução, verificação com problemas)
  2  uso incorreto do comando (opção desconhecida, argumento faltando, módulo ou tarefa que não existe)
  3  pasta do curso ou da turma não encontrada, programa (curriculum/programa.yml) inválido, ou a máquina
     não tem o que o comando precisa (por exemplo, isolamento para corrigir)
"""


class CommandError(Exception):
    """A failure a command reports to the person who ran it (pt-BR message) and exits with `exit_code`."""

    exit_code = FAILED


class UsageError(CommandError):
    """The command was called wrongly: an unknown module, assignment or option value."""

    exit_code = USAGE


class SetupError(CommandError):
    """What the command needs is missing or invalid: course, cohort folder, program or the machine."""

    exit_code = SETUP
