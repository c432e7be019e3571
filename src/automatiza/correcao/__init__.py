"""Correção da turma em cima do nbgrader: rápida (kernels pré-iniciados, em paralelo) e isolada.

Módulos:
- `curso`: lê uma pasta de curso do nbgrader (configuração, caminhos, banco de notas);
- `turma`: `automatiza turma criar`, uma turma nova fora do repositório;
- `isolamento`: o que o sistema permite para isolar o código dos alunos, e como aplicar;
- `zigoto`: o processo que pré-carrega o Python do kernel e cria um kernel isolado por notebook;
- `guarda`: restaura, dentro do kernel, o que os testes usam antes de cada célula de teste;
- `pool`: kernels pré-iniciados, prontos antes de serem necessários;
- `corretor`: `automatiza corrigir`, reusando os pré-processadores do nbgrader;
- `devolutiva` e `notas`: devolutivas em HTML e exportação das notas.
"""
