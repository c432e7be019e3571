"""Hours saved per month, measured from a project package's own data, with its assumptions spelled out.

The Automatiza.MG metric: human hours per month before the robot, minus the human hours that remain, minus
the robot's own running time (from its log) and the people's time spent maintaining it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from automatiza.projects.canvas import Canvas

MAX_LOG_BYTES = 5_000_000


class ImpactError(Exception):
    """The measurements needed for the impact are missing or unreadable (pt-BR message)."""


@dataclass(frozen=True)
class Impact:
    cases_per_month: float
    months_observed: int
    minutes_per_case: float
    cases_timed: int
    minutes_left_per_case: float
    robot_seconds_per_case: float
    robot_runs: int
    maintenance_hours: float

    @property
    def human_hours_before(self) -> float:
        return self.minutes_per_case * self.cases_per_month / 60

    @property
    def human_hours_after(self) -> float:
        return self.minutes_left_per_case * self.cases_per_month / 60

    @property
    def robot_hours(self) -> float:
        return self.robot_seconds_per_case * self.cases_per_month / 3600

    @property
    def hours_saved(self) -> float:
        return self.human_hours_before - self.human_hours_after - self.robot_hours - self.maintenance_hours

    def assumptions(self) -> list[str]:
        """The premises behind the number, in pt-BR, to be printed next to it."""
        return [
            f"Volume: {br(self.cases_per_month, 1)} casos por mês, média de {self.months_observed} mês(es) "
            "medidos na linha de base.",
            f"Tempo humano hoje: {br(self.minutes_per_case, 1)} min por caso, média de {self.cases_timed} "
            "caso(s) cronometrado(s).",
            f"Tempo humano que sobra com o robô: {br(self.minutes_left_per_case, 1)} min por caso "
            "(conferência).",
            f"Tempo do robô: {br(self.robot_seconds_per_case, 1)} s por caso, medido em {self.robot_runs} "
            "execução(ões) registradas no log do robô.",
            f"Manutenção: {br(self.maintenance_hours, 1)} h por mês de pessoas cuidando do robô.",
        ]


def br(value: float, decimals: int = 1) -> str:
    """12345.6 -> '12.345,6' (Brazilian format)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def baseline(path: Path) -> tuple[float, int, float, int]:
    """(cases per month, full months observed, mean minutes per timed case, cases timed) from the CSV."""
    try:
        table = pd.read_csv(path, sep=";", decimal=",", dtype={"minutos": "float64"}, nrows=1_000_000)
    except FileNotFoundError:
        raise ImpactError(f"falta o arquivo da linha de base: {path}") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ImpactError(f"{path}: não consegui ler a linha de base ({exc})") from None
    if missing := {"data", "minutos"} - set(table.columns):
        raise ImpactError(f"{path}: faltam as colunas {', '.join(sorted(missing))} (separador ';')")
    dates = pd.to_datetime(table["data"], format="%d/%m/%Y", errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().idxmax()) + 2
        raise ImpactError(f"{path}, linha {row}: data fora do formato dd/mm/aaaa")
    per_month = dates.dt.to_period("M").value_counts()
    timed = table["minutos"].dropna()
    if timed.empty:
        raise ImpactError(f"{path}: nenhum caso cronometrado (coluna minutos vazia)")
    return float(per_month.mean()), int(per_month.size), float(timed.mean()), int(timed.size)


def robot_time(path: Path) -> tuple[float, int]:
    """(robot seconds per case, successful runs) from the robot's JSON-lines log."""
    try:
        with path.open("rb") as log:
            raw = log.read(MAX_LOG_BYTES)
    except FileNotFoundError:
        raise ImpactError(f"falta o log do robô: {path} (rode o robô ao menos uma vez)") from None
    seconds = cases = runs = 0.0
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            run = json.loads(line)
            if run.get("status") == "ok" and int(run["casos"]) > 0:
                seconds, cases, runs = seconds + float(run["segundos"]), cases + int(run["casos"]), runs + 1
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ImpactError(f"{path}, linha {number}: registro do robô ilegível") from None
    if not cases:
        raise ImpactError(f"{path}: nenhuma execução do robô terminou bem com casos processados")
    return seconds / cases, int(runs)


def measure(package: Path, canvas: Canvas) -> Impact:
    """The impact of the project in `package`, from its baseline file and the robot's log."""
    per_month, months, minutes, timed = baseline(package / canvas.linha_de_base.arquivo)
    robot_seconds, runs = robot_time(package / canvas.automacao.registro_do_robo)
    return Impact(
        cases_per_month=per_month,
        months_observed=months,
        minutes_per_case=minutes,
        cases_timed=timed,
        minutes_left_per_case=canvas.automacao.minutos_restantes_por_caso,
        robot_seconds_per_case=robot_seconds,
        robot_runs=runs,
        maintenance_hours=canvas.automacao.manutencao_horas_por_mes,
    )
