"""The ipykernel application of the zygote's kernels (imported by the zygote only, never by the grader)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from ipykernel.kernelapp import IPKernelApp


def kernel_arguments(xmode: str) -> list[str]:
    """The kernels' command line, as nbgrader's Execute starts them (history in memory); each kernel's
    connection file is given to it on its own."""
    return ["--HistoryManager.hist_file=:memory:", "--quiet", f"--InteractiveShell.xmode={xmode}"]


class KernelApp(IPKernelApp):
    """ipykernel's application, whose command line is parsed once, in the zygote (`parse_once`): parsing it
    (traitlets builds a parser of every configurable class) was a fifth of a forked kernel's start-up."""

    parsed: ClassVar[tuple[list[str], Any, list[str]] | None] = None

    @classmethod
    def parse_once(cls, argv: list[str]) -> None:
        app = IPKernelApp()
        app.parse_command_line(argv)
        cls.parsed = (list(argv), app.cli_config, list(app.extra_args))

    def parse_command_line(self, argv: list[str] | None = None) -> None:
        if self.parsed is None or argv != self.parsed[0]:
            return super().parse_command_line(argv)
        self.argv = list(argv)
        self.cli_config = copy.deepcopy(self.parsed[1])
        self.update_config(self.cli_config)
        self.extra_args = list(self.parsed[2])
        return None
