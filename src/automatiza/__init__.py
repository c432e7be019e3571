"""Automatiza.MG: pacote do curso (dados, ajudas para quem aprende e ferramentas do curso)."""

__version__ = "0.1.0"
