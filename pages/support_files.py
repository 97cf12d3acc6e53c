"""Movimentação cadastral > Arquivos de apoio: the batch template, the file layout (table
and files) and a short guide."""

import streamlit as st

from components import batch_widgets as bw
from components.context import get_context
from components.safe_text import plain
from services import exports
from services.actors import Permission
from services.batch.layout import MAX_BYTES, MAX_LINES, layout_csv, layout_rows, layout_xlsx
from services.rules.formats import format_int

ctx = get_context(Permission.MOVEMENTS)
st.title("Arquivos de apoio")
st.caption(
    f"{plain(ctx.company.label)} · modelo, layout e guia do arquivo de movimentação em lote."
)

st.subheader("Modelo")
st.markdown(
    "Planilha pronta para preencher: aba **Movimentacoes** com o cabeçalho e listas de "
    "opções, e abas de exemplos e de instruções (com os planos contratados da empresa)."
)
bw.template_download(ctx, key="support_template")

st.subheader("Layout do arquivo")
rows = layout_rows()
st.caption(f"{len(rows)} colunas. Os nomes são os do cabeçalho (linha 1); a ordem pode mudar.")
st.dataframe(rows, hide_index=True, width="stretch", height=38 + 35 * len(rows))
c1, c2 = st.columns(2)
c1.download_button(
    "Baixar layout (xlsx)",
    data=layout_xlsx,
    file_name="layout_movimentacao_lote.xlsx",
    mime=bw.XLSX,
    on_click="ignore",
    icon=":material/download:",
    width="stretch",
)
c2.download_button(
    "Baixar layout (csv)",
    data=layout_csv,
    file_name="layout_movimentacao_lote.csv",
    mime=exports.CSV_MIME,
    on_click="ignore",
    icon=":material/download:",
    width="stretch",
)

lines = format_int(MAX_LINES)
megabytes = MAX_BYTES // (1024 * 1024)
st.subheader("Guia")
st.markdown(
    f"""
**Como preencher**
- Uma linha é uma movimentação de um beneficiário; a coluna `tipo_movimento` diz qual:
  `INCLUSAO`, `EXCLUSAO`, `ALTERACAO`, `REATIVACAO` ou `TRANSFERENCIA`.
- Preencha a aba **Movimentacoes** a partir da linha 2 (só ela é lida; os exemplos ficam em
  outra aba). Não mude os nomes das colunas nem apague colunas; colunas que não se aplicam
  ficam vazias.
- Sem fórmulas e sem células mescladas: o arquivo inteiro é recusado.
- **Dependentes depois dos titulares**: para o dependente de um titular incluído no mesmo
  arquivo, coloque a linha do titular antes e informe o CPF dele em `cpf_titular`. Para o
  dependente de um titular já cadastrado, informe a carteirinha dele em `carteirinha_titular`.
  O plano do dependente é o do titular; dependente sem endereço usa o do titular.
- `EXCLUSAO`: carteirinha e motivo; excluir o titular exclui também os dependentes.
  `ALTERACAO`: carteirinha e só as colunas que mudam. `TRANSFERENCIA`: carteirinha do titular
  e código da empresa de destino (mesmo grupo econômico).

**Formatos e limites**
- Arquivo `.xlsx` (o modelo) ou `.csv` (UTF-8 ou Latin-1, separado por `;` ou `,`).
- Datas em `dd/mm/aaaa`; `data_vigencia` vazia é hoje (datas passadas: Cadastro retroativo).
- CPF, CEP, telefone e carteirinhas só com números, com os zeros à esquerda (no modelo as
  colunas já estão como Texto).
- Até **{lines} linhas** e **{megabytes} MB** por arquivo; acima disso, divida em arquivos.

**Conferência, aplicação e arquivo de resultado**
- Em **Cadastro em lote**, envie o arquivo e clique em *Conferir arquivo*: cada linha recebe
  um status, com as mesmas regras do cadastro individual. Nada é gravado até você clicar em
  *Aplicar linhas aceitas*; as recusadas nunca são aplicadas.
- O arquivo de resultado traz as suas linhas com duas colunas a mais: `status` (*Aplicada*,
  *Aceita*, *Aceita com aviso* ou *Recusada*) e `mensagem` (o protocolo e a carteirinha da
  linha aplicada, ou o que corrigir na recusada; as células a corrigir ficam em vermelho).
  *Aceita com aviso* quer dizer que o portal corrigiu algo sozinho (por exemplo, zeros à
  esquerda do CPF): confira.
- Corrija as linhas recusadas e envie **só elas** em um novo arquivo. O mesmo arquivo enviado
  de novo é reconhecido e o portal pede confirmação antes de aplicar.
- Em **Acompanhar lotes** ficam todos os lotes da empresa, com o status de cada linha e o
  arquivo de resultado; uma aplicação interrompida pode ser retomada de onde parou.

**Linha de comando (automação)**

Para integrar o sistema de RH, a equipe de TI da operadora roda no servidor do portal:

```
portal-batch ARQUIVO --company CODIGO_EMPRESA --user CODIGO_USUARIO [--check-only]
portal-batch --template modelo.xlsx --company CODIGO_EMPRESA
```

Com `--check-only` o arquivo só é conferido, sem aplicar nada. A última linha da saída é
`accepted=N refused=M`; o código de saída é 0 quando o arquivo foi processado (mesmo com
linhas recusadas) e 2 quando o arquivo inteiro foi recusado. O lote aparece em Acompanhar
lotes como os enviados pela tela.
"""
)
