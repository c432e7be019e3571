"""Benchmark dos dados sintéticos: gera o log de 1 milhão de andamentos do SEI e mede tempo e memória.

Uso:
    .venv/bin/python benchmarks/bench_dados.py                 # 1 milhão de andamentos, 3 repetições
    .venv/bin/python benchmarks/bench_dados.py --eventos 200000 --repeticoes 1
    .venv/bin/python benchmarks/bench_dados.py --todos         # também os outros geradores, em tamanho grande

O tempo é medido sem o tracemalloc (que deixa tudo mais lento); o pico de memória do Python (numpy e
pandas incluídos) é medido numa execução separada com o tracemalloc, e o pico de memória residente do
processo (RSS) vem de `resource.getrusage`.
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import sys
import time
import tracemalloc

from automatiza import dados
from automatiza.dados import sei

MIB = 2**20


def _processos_para(eventos: int, semente: int) -> int:
    """Quantos processos dão pelo menos `eventos` andamentos (o corte na data de extração tira alguns)."""
    n = math.ceil(eventos / sei.eventos_medios_por_processo())
    piloto = max(n // 10, 1)
    linhas = len(dados.carregar("andamentos_sei", n=piloto, semente=semente))
    n = math.ceil(eventos * piloto / linhas)
    while (linhas := len(dados.carregar("andamentos_sei", n=n, semente=semente))) < eventos:
        n = math.ceil(n * eventos / linhas) + 10
    return n


def _rss_mib() -> float:
    pico = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return pico / MIB if sys.platform == "darwin" else pico / 1024


def bench_andamentos(eventos: int, repeticoes: int, semente: int) -> None:
    n = _processos_para(eventos, semente)
    tempos = []
    for _ in range(repeticoes):
        inicio = time.perf_counter()
        andamentos = dados.carregar("andamentos_sei", n=n, semente=semente)
        tempos.append(time.perf_counter() - inicio)
    linhas = len(andamentos)
    memoria_df = andamentos.memory_usage(deep=True).sum() / MIB
    del andamentos

    tracemalloc.start()
    dados.carregar("andamentos_sei", n=n, semente=semente)
    _, pico = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"andamentos_sei: {linhas:,} andamentos de {n:,} processos (semente {semente})".replace(",", "."))
    print(
        f"  tempo: melhor {min(tempos):.2f} s, média {sum(tempos) / len(tempos):.2f} s em {repeticoes} "
        f"repetição(ões) ({linhas / min(tempos) / 1e6:.2f} milhão de andamentos/s)"
    )
    print(f"  pico de memória (tracemalloc): {pico / MIB:.0f} MiB")
    print(f"  DataFrame pronto (memory_usage deep): {memoria_df:.0f} MiB")
    print(f"  pico de memória residente do processo (ru_maxrss): {_rss_mib():.0f} MiB")


def bench_todos(semente: int) -> None:
    tamanhos = {
        "processos_sei": 100_000,
        "contratos_obras": 2_000,
        "medicoes_obras": 2_000,
        "aditivos_obras": 2_000,
        "fornecedores": 100_000,
        "convenios_municipios": 100_000,
        "demandas_cidadao": 50_000,
        "pluviometros": 365,
        "riscos": 10_000,
        "prazos": 50_000,
    }
    print("outros geradores:")
    for nome, n in tamanhos.items():
        inicio = time.perf_counter()
        df = dados.carregar(nome, n=n, semente=semente)
        segundos = time.perf_counter() - inicio
        print(f"  {nome:<22} n={n:>7,} -> {len(df):>9,} linhas em {segundos:6.2f} s".replace(",", "."))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--eventos", type=int, default=1_000_000, help="andamentos a gerar (padrão: 1 milhão)"
    )
    parser.add_argument("--repeticoes", type=int, default=3)
    parser.add_argument("--semente", type=int, default=dados.SEMENTE_PADRAO)
    parser.add_argument("--todos", action="store_true", help="mede também os outros geradores")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} em {platform.machine()}, {platform.system()}")
    bench_andamentos(args.eventos, args.repeticoes, args.semente)
    if args.todos:
        bench_todos(args.semente)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
