"""Calendário de expediente de Belo Horizonte usado pelos conjuntos sintéticos (e útil nas lições).

Dias sem expediente: feriados nacionais e de Minas Gerais (pacote `holidays`), os feriados municipais de
Belo Horizonte (Sexta-feira Santa, Corpus Christi, 15/08 e 08/12) e a segunda e a terça de Carnaval,
tratadas aqui como pontos facultativos decretados (a cada ano o decreto estadual diz quais valem).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np

MESES = (
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)
INICIO_EXPEDIENTE_MIN = 8 * 60  # 08:00
FIM_EXPEDIENTE_MIN = 18 * 60  # 18:00
MINUTOS_EXPEDIENTE = FIM_EXPEDIENTE_MIN - INICIO_EXPEDIENTE_MIN


@lru_cache(maxsize=64)
def _feriados_ano(ano: int) -> dict[dt.date, str]:
    dias: dict[dt.date, str] = dict(holidays.Brazil(subdiv="MG", years=ano, language="pt_BR"))
    opcionais = holidays.Brazil(subdiv="MG", years=ano, categories=("optional",), language="pt_BR")
    for dia, nome in opcionais.items():
        if "Carnaval" in nome and dia.weekday() in (0, 1):
            dias[dia] = "Carnaval (ponto facultativo)"
        if "Corpus Christi" in nome:
            dias[dia] = "Corpus Christi (feriado municipal de Belo Horizonte)"
    dias[dt.date(ano, 8, 15)] = "Assunção de Nossa Senhora (feriado municipal de Belo Horizonte)"
    dias[dt.date(ano, 12, 8)] = "Imaculada Conceição (feriado municipal de Belo Horizonte)"
    return dias


def feriados_bh(inicio: int, fim: int | None = None) -> dict[dt.date, str]:
    """Dias sem expediente em Belo Horizonte (feriados e Carnaval) dos anos `inicio` a `fim`.

    >>> feriados_bh(2024)[dt.date(2024, 8, 15)]
    'Assunção de Nossa Senhora (feriado municipal de Belo Horizonte)'
    """
    saida: dict[dt.date, str] = {}
    for ano in range(inicio, (fim or inicio) + 1):
        saida.update(_feriados_ano(ano))
    return dict(sorted(saida.items()))


@lru_cache(maxsize=16)
def _calendario_np(ano_inicio: int, ano_fim: int) -> np.busdaycalendar:
    dias = np.array(list(feriados_bh(ano_inicio, ano_fim)), dtype="datetime64[D]")
    return np.busdaycalendar(weekmask="1111100", holidays=dias)


def calendario(ano_inicio: int = 2015, ano_fim: int = 2035) -> np.busdaycalendar:
    """Calendário de dias úteis do numpy (`np.busday_offset`, `np.is_busday`) com os feriados de BH."""
    return _calendario_np(ano_inicio, ano_fim)


def dias_uteis(inicio: np.datetime64, fim: np.datetime64) -> np.ndarray:
    """Vetor de dias úteis (datetime64[D]) de `inicio` (incluído) a `fim` (excluído)."""
    todos = np.arange(np.datetime64(inicio, "D"), np.datetime64(fim, "D"))
    return todos[np.is_busday(todos, busdaycal=calendario())]
