"""CPF, CNPJ (numérico e alfanumérico), código IBGE e número de processo SEI-MG: dígitos verificadores.

As funções com nome em português (`cpf_valido`, `cnpj_valido`, `formatar_cpf`, ...) servem a quem aprende;
as vetorizadas (`_cpf_array`, ...) geram milhares de documentos de uma vez para os conjuntos sintéticos.
"""

from __future__ import annotations

import re

import numpy as np

_DIGITOS = re.compile(r"\D")
_NAO_ALFANUM = re.compile(r"[^0-9A-Za-z]")

# CNPJ alfanumérico (a partir de julho de 2026): valor do caractere = código ASCII - 48; DV numéricos.
_PESOS_CNPJ_1 = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_PESOS_CNPJ_2 = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_PESOS_CPF_1 = np.arange(10, 1, -1)
_PESOS_CPF_2 = np.arange(11, 1, -1)
_ALFANUM = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _dv_mod11(valores: np.ndarray, pesos: np.ndarray) -> np.ndarray:
    """Dígito módulo 11 (resto < 2 vira 0) de cada linha de `valores`."""
    resto = (valores * pesos).sum(axis=1) % 11
    return np.where(resto < 2, 0, 11 - resto)


def _cpf_dvs(base: np.ndarray) -> np.ndarray:
    """`base`: matriz (n, 9) de inteiros 0-9. Devolve a matriz (n, 11) do CPF completo."""
    d1 = _dv_mod11(base, _PESOS_CPF_1)
    com1 = np.column_stack([base, d1])
    d2 = _dv_mod11(com1, _PESOS_CPF_2)
    return np.column_stack([com1, d2])


def _cnpj_dvs(base: np.ndarray) -> np.ndarray:
    """`base`: matriz (n, 12) de valores (caractere - 48). Devolve os dois DV (n, 2)."""
    d1 = _dv_mod11(base, _PESOS_CNPJ_1)
    d2 = _dv_mod11(np.column_stack([base, d1]), _PESOS_CNPJ_2)
    return np.column_stack([d1, d2])


def _juntar(matriz: np.ndarray) -> np.ndarray:
    """Matriz de caracteres (n, k) -> vetor de textos de k caracteres."""
    matriz = np.ascontiguousarray(matriz.astype("<U1"))
    return matriz.view(f"<U{matriz.shape[1]}").ravel()


def _cpf_array(rng: np.random.Generator, n: int) -> np.ndarray:
    """n CPFs válidos (só dígitos), sem repetir a sequência de dígitos iguais (000.000.000-00 etc.)."""
    base = rng.integers(0, 10, size=(n, 9))
    iguais = (base == base[:, :1]).all(axis=1)
    base[iguais, 0] = (base[iguais, 0] + 1) % 10
    return _juntar(_cpf_dvs(base).astype(str))


def _cnpj_array(rng: np.random.Generator, n: int, alfanumerico: np.ndarray | None = None) -> np.ndarray:
    """n CNPJs válidos (só dígitos e letras maiúsculas); `alfanumerico` marca quais terão letras na raiz."""
    raiz = rng.integers(0, 10, size=(n, 8))
    raiz[:, 0] = np.where(rng.random(n) < 0.12, 0, rng.integers(1, 10, size=n))  # alguns começam com zero
    filial = np.zeros((n, 4), dtype=int)
    filial[:, 3] = np.where(rng.random(n) < 0.9, 1, rng.integers(2, 10, size=n))
    chars = np.concatenate([raiz, filial], axis=1).astype(str).astype("<U1")
    if alfanumerico is not None and alfanumerico.any():
        idx = np.flatnonzero(alfanumerico)
        letras = _ALFANUM[rng.integers(10, 36, size=(idx.size, 8))]
        usar = rng.random((idx.size, 8)) < 0.5
        usar[:, 2] = True  # ao menos uma letra em cada CNPJ alfanumérico
        chars[idx, :8] = np.where(usar, letras, chars[idx, :8])
    valores = np.vectorize(ord)(chars) - 48 if chars.size else np.zeros((0, 12), dtype=int)
    dvs = _cnpj_dvs(valores).astype(str)
    return _juntar(np.concatenate([chars, dvs], axis=1))


def _estragar_dv(rng: np.random.Generator, docs: np.ndarray) -> np.ndarray:
    """Troca o último dígito verificador por outro (o documento passa a ser inválido)."""
    docs = np.asarray(docs, dtype=object)
    saida = docs.copy()
    for i, doc in enumerate(docs):
        ultimo = int(doc[-1])
        novo = (ultimo + int(rng.integers(1, 10))) % 10
        saida[i] = doc[:-1] + str(novo)
    return saida


def _formatar_cpf_array(cpfs: np.ndarray) -> np.ndarray:
    return np.array([f"{c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}" for c in cpfs], dtype=object)


def _formatar_cnpj_array(cnpjs: np.ndarray) -> np.ndarray:
    return np.array([f"{c[:2]}.{c[2:5]}.{c[5:8]}/{c[8:12]}-{c[12:]}" for c in cnpjs], dtype=object)


# ----------------------------------------------------------------------------------------------------
# Funções para quem aprende
# ----------------------------------------------------------------------------------------------------


def cpf_valido(cpf: str) -> bool:
    """Diz se o CPF tem 11 dígitos e dígitos verificadores corretos (aceita com ou sem pontuação).

    >>> cpf_valido("529.982.247-25")
    True
    """
    digitos = _DIGITOS.sub("", str(cpf))
    if len(digitos) != 11 or len(set(digitos)) == 1:
        return False
    base = np.array([[int(c) for c in digitos[:9]]])
    return "".join(map(str, _cpf_dvs(base)[0])) == digitos


def cnpj_valido(cnpj: str) -> bool:
    """Diz se o CNPJ (numérico ou alfanumérico, com ou sem pontuação) tem dígitos verificadores corretos.

    No CNPJ alfanumérico (cadastros a partir de julho de 2026) cada caractere vale o seu código ASCII
    menos 48; os dois dígitos verificadores continuam numéricos.

    >>> cnpj_valido("11.222.333/0001-81")
    True
    >>> cnpj_valido("12.ABC.345/01DE-35")
    True
    """
    texto = _NAO_ALFANUM.sub("", str(cnpj)).upper()
    if len(texto) != 14 or not texto[12:].isdigit() or len(set(texto)) == 1:
        return False
    valores = np.array([[ord(c) - 48 for c in texto[:12]]])
    return "".join(map(str, _cnpj_dvs(valores)[0])) == texto[12:]


def formatar_cpf(cpf: str) -> str:
    """Devolve o CPF no formato 000.000.000-00 (completa com zeros à esquerda se faltarem)."""
    d = _DIGITOS.sub("", str(cpf)).zfill(11)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def formatar_cnpj(cnpj: str) -> str:
    """Devolve o CNPJ no formato 00.000.000/0000-00 (completa com zeros à esquerda se faltarem)."""
    d = _NAO_ALFANUM.sub("", str(cnpj)).upper().zfill(14)
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def dv_ibge(codigo6: str | int) -> int:
    """Dígito verificador do código IBGE de município (pesos 1,2,1,2,1,2; soma dos algarismos).

    >>> dv_ibge(310620)  # Belo Horizonte, 3106200
    0
    """
    soma = 0
    for i, c in enumerate(str(codigo6).zfill(6)):
        produto = int(c) * (1 if i % 2 == 0 else 2)
        soma += produto // 10 + produto % 10
    return (10 - soma % 10) % 10


# Dois códigos reais de MG não seguem a regra do dígito verificador (veja o dicionário de dados).
IBGE_EXCECOES = frozenset({"3117836", "3152131"})


def ibge_valido(codigo: str | int) -> bool:
    """Diz se o código IBGE de 7 dígitos tem o dígito verificador certo (ou é uma das exceções reais)."""
    texto = str(codigo).strip()
    if not re.fullmatch(r"\d{7}", texto):
        return False
    return texto in IBGE_EXCECOES or dv_ibge(texto[:6]) == int(texto[6])


# ----------------------------------------------------------------------------------------------------
# Número de processo SEI-MG: 1500.01.0023123/2024-08
# ----------------------------------------------------------------------------------------------------

PADRAO_SEI = re.compile(r"^\d{4}\.\d{2}\.\d{7}/\d{4}-\d{2}$")


def _dv_sei(digitos: np.ndarray) -> np.ndarray:
    """Dois dígitos verificadores módulo 11 (esquema do NUP federal aplicado aos 17 dígitos).

    O algoritmo oficial do SEI-MG não é reproduzido: estes DV são sintéticos, mas consistentes.
    """
    n = digitos.shape[1]
    d1 = _dv_mod11(digitos, np.arange(n + 1, 1, -1))
    d2 = _dv_mod11(np.column_stack([digitos, d1]), np.arange(n + 2, 1, -1))
    return d1 * 10 + d2


def _numeros_sei(
    orgao: np.ndarray, unidade: np.ndarray, sequencial: np.ndarray, ano: np.ndarray
) -> np.ndarray:
    """Vetoriza a montagem de números SEI-MG a partir das partes inteiras."""
    texto = np.char.add(
        np.char.add(np.char.zfill(orgao.astype(str), 4), np.char.zfill(unidade.astype(str), 2)),
        np.char.add(np.char.zfill(sequencial.astype(str), 7), np.char.zfill(ano.astype(str), 4)),
    )
    digitos = texto.view("<U1").reshape(len(texto), 17).astype(int) if len(texto) else np.zeros((0, 17), int)
    dv = _dv_sei(digitos)
    return np.array(
        [f"{t[:4]}.{t[4:6]}.{t[6:13]}/{t[13:17]}-{d:02d}" for t, d in zip(texto, dv, strict=True)],
        dtype=object,
    )
