"""CNAB 240 (FEBRABAN, cobrança): a remessa checked position by position, and retornos
with a payment, a partial payment, an unknown boleto and malformed lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.rules.cnab240 import (
    FILE_HEADER,
    LAYOUTS,
    LINE_LENGTH,
    ReturnFileError,
    Title,
    bank_title_id,
    build_remittance,
    format_field,
    layout_gaps,
    our_number_of,
    parse_return,
)
from tests.cnab_support import ACCOUNT, Paid, retorno_file, retorno_lines

D = Decimal
GENERATED = datetime(2026, 1, 5, 9, 30, 15, tzinfo=UTC)


def title(movement: str = "01", **kw: object) -> Title:
    values: dict[str, object] = {
        "movement": movement,
        "our_number": "0000000042",
        "document_number": "202601-17",
        "company_reference": "BOLETO 9",
        "issue_date": date(2026, 1, 2),
        "due_date": date(2026, 1, 10),
        "amount": D("1000.00"),
        "interest_code": "2",
        "interest_date": date(2026, 1, 11),
        "interest_value": D("1.00"),
        "fine_pct": D("2.00"),
        "fine_date": date(2026, 1, 11),
        "write_off_days": 59,
        "payer_document": "11444777000161",
        "payer_document_type": "CNPJ",
        "payer_name": "Padaria São João Ltda.",
        "payer_address": "Rua das Acácias, 100, sala 2",
        "payer_neighbourhood": "Centro",
        "payer_cep": "01310100",
        "payer_city": "São Paulo",
        "payer_state": "SP",
    }
    values.update(kw)
    return Title(**values)  # type: ignore[arg-type]


def at(line: str, start: int, end: int) -> str:
    """Positions start..end (1-based, inclusive) of a line, as the manual prints them."""
    return line[start - 1 : end]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_layout_covers_the_240_positions_once_in_order(name: str) -> None:
    assert layout_gaps(LAYOUTS[name]) == []


@pytest.fixture
def remessa() -> list[str]:
    titles = [title(), title("02", our_number="0000000007", fine_pct=D("0"), amount=D("55.10"))]
    r = build_remittance(ACCOUNT, titles, nsa=12, generated_at=GENERATED)
    assert (r.titles, r.entries, r.entries_total) == (2, 1, D("1000.00"))
    assert r.content.endswith(b"\r\n") and r.content.count(b"\r\n") == len(r.lines)
    return r.lines


def test_every_line_is_exactly_240_ascii_characters(remessa: list[str]) -> None:
    assert [len(line) for line in remessa] == [LINE_LENGTH] * 9
    assert all(line.isascii() for line in remessa)
    # header, lot header, P Q R (entrada with fine), P Q (baixa), lot trailer, trailer
    assert [at(x, 8, 8) + (at(x, 14, 14) if x[7] == "3" else "") for x in remessa] == [
        "0", "1", "3P", "3Q", "3R", "3P", "3Q", "5", "9"
    ]  # fmt: skip


def test_file_header_field_by_field(remessa: list[str]) -> None:
    h = remessa[0]
    assert at(h, 1, 3) == "001"  # banco
    assert at(h, 4, 7) == "0000"  # lote de serviço
    assert at(h, 8, 8) == "0"  # tipo de registro
    assert at(h, 9, 17) == " " * 9
    assert at(h, 18, 18) == "2"  # CNPJ
    assert at(h, 19, 32) == "11222333000181"
    assert at(h, 33, 52) == "1234567".ljust(20)  # convênio
    assert at(h, 53, 57) == "01234"  # agência
    assert at(h, 58, 58) == "3"  # DV agência
    assert at(h, 59, 70) == "000000056789"  # conta
    assert at(h, 71, 71) == "2"  # DV conta
    assert at(h, 72, 72) == " "
    assert at(h, 73, 102) == "SORRISO ODONTOLOGIA S.A.".ljust(30)
    assert at(h, 103, 132) == "BANCO DO BRASIL S.A.".ljust(30)
    assert at(h, 133, 142) == " " * 10
    assert at(h, 143, 143) == "1"  # remessa
    assert at(h, 144, 151) == "05012026"  # data de geração
    assert at(h, 152, 157) == "093015"  # hora
    assert at(h, 158, 163) == "000012"  # NSA
    assert at(h, 164, 166) == "103"  # versão do layout
    assert at(h, 167, 171) == "00000"
    assert at(h, 172, 240) == " " * 69


def test_lot_header_field_by_field(remessa: list[str]) -> None:
    h = remessa[1]
    assert at(h, 1, 3) == "001"
    assert at(h, 4, 7) == "0001"
    assert at(h, 8, 8) == "1"
    assert at(h, 9, 9) == "R"  # remessa
    assert at(h, 10, 11) == "01"  # cobrança
    assert at(h, 12, 13) == "  "
    assert at(h, 14, 16) == "060"
    assert at(h, 17, 17) == " "
    assert at(h, 18, 18) == "2"
    assert at(h, 19, 33) == "011222333000181"
    assert at(h, 34, 53) == "1234567".ljust(20)
    assert at(h, 54, 58) == "01234"
    assert at(h, 59, 59) == "3"
    assert at(h, 60, 71) == "000000056789"
    assert at(h, 72, 72) == "2"
    assert at(h, 74, 103) == "SORRISO ODONTOLOGIA S.A.".ljust(30)
    assert at(h, 104, 183) == " " * 80  # mensagens
    assert at(h, 184, 191) == "00000012"  # número remessa
    assert at(h, 192, 199) == "05012026"  # data de gravação
    assert at(h, 200, 207) == "00000000"  # data do crédito
    assert at(h, 208, 240) == " " * 33


def test_segment_p_field_by_field(remessa: list[str]) -> None:
    p = remessa[2]
    assert at(p, 1, 8) == "00100013"
    assert at(p, 9, 13) == "00001"  # sequencial no lote
    assert at(p, 14, 14) == "P"
    assert at(p, 15, 15) == " "
    assert at(p, 16, 17) == "01"  # entrada de títulos
    assert at(p, 18, 22) == "01234"
    assert at(p, 23, 23) == "3"
    assert at(p, 24, 35) == "000000056789"
    assert at(p, 36, 36) == "2"
    assert at(p, 37, 37) == " "
    assert at(p, 38, 57) == "12345670000000042".ljust(20)  # BB: convênio + sequência
    assert at(p, 58, 58) == "1"  # cobrança simples
    assert at(p, 59, 59) == "1"  # registrada
    assert at(p, 60, 60) == "1"
    assert at(p, 61, 62) == "22"  # emitido e distribuído pelo beneficiário
    assert at(p, 63, 77) == "202601-17".ljust(15)  # seu número
    assert at(p, 78, 85) == "10012026"  # vencimento
    assert at(p, 86, 100) == "000000000100000"  # 1.000,00
    assert at(p, 101, 106) == "00000 "
    assert at(p, 107, 108) == "04"  # espécie
    assert at(p, 109, 109) == "N"  # aceite
    assert at(p, 110, 117) == "02012026"  # emissão
    assert at(p, 118, 118) == "2"  # juros: taxa mensal
    assert at(p, 119, 126) == "11012026"
    assert at(p, 127, 141) == "000000000000100"  # 1,00% ao mês
    assert at(p, 142, 142) == "0"  # sem desconto
    assert at(p, 143, 195) == "0" * 53
    assert at(p, 196, 220) == "BOLETO 9".ljust(25)
    assert at(p, 221, 223) == "300"  # não protestar
    assert at(p, 224, 227) == "1059"  # baixar após 59 dias
    assert at(p, 228, 229) == "09"  # real
    assert at(p, 230, 239) == "0" * 10
    assert at(p, 240, 240) == " "


def test_segment_q_field_by_field(remessa: list[str]) -> None:
    q = remessa[3]
    assert at(q, 1, 17) == "00100013" + "00002" + "Q 01"
    assert at(q, 18, 18) == "2"
    assert at(q, 19, 33) == "011444777000161"
    assert at(q, 34, 73) == "PADARIA SAO JOAO LTDA.".ljust(40)
    assert at(q, 74, 113) == "RUA DAS ACACIAS, 100, SALA 2".ljust(40)
    assert at(q, 114, 128) == "CENTRO".ljust(15)
    assert at(q, 129, 133) == "01310"
    assert at(q, 134, 136) == "100"
    assert at(q, 137, 151) == "SAO PAULO".ljust(15)
    assert at(q, 152, 153) == "SP"
    assert at(q, 154, 169) == "0" * 16  # sem sacador/avalista
    assert at(q, 170, 209) == " " * 40
    assert at(q, 210, 212) == "000"
    assert at(q, 213, 240) == " " * 28


def test_segment_r_carries_the_fine_of_an_entry(remessa: list[str]) -> None:
    r = remessa[4]
    assert at(r, 1, 17) == "00100013" + "00003" + "R 01"
    assert at(r, 18, 65) == "0" * 48
    assert at(r, 66, 66) == "2"  # multa percentual
    assert at(r, 67, 74) == "11012026"
    assert at(r, 75, 89) == "000000000000200"  # 2,00%
    assert at(r, 90, 199) == " " * 110


def test_a_write_off_is_p_and_q_with_movement_02(remessa: list[str]) -> None:
    p, q = remessa[5], remessa[6]
    assert at(p, 9, 17) == "00004P 02" and at(q, 9, 17) == "00005Q 02"
    assert at(p, 38, 57) == "12345670000000007".ljust(20)
    assert at(p, 86, 100) == "000000000005510"


def test_trailers_count_records_and_total_the_entries(remessa: list[str]) -> None:
    lot, file = remessa[7], remessa[8]
    assert at(lot, 1, 8) == "00100015"
    assert at(lot, 18, 23) == "000007"  # lot header + 5 details + lot trailer
    assert at(lot, 24, 29) == "000001"  # entradas
    assert at(lot, 30, 46) == "00000000000100000"  # their total
    assert at(lot, 47, 115) == "0" * 69
    assert at(lot, 116, 240) == " " * 125
    assert at(file, 1, 8) == "00199999"
    assert at(file, 18, 23) == "000001"  # lotes
    assert at(file, 24, 29) == "000009"  # registros
    assert at(file, 30, 35) == "000000"
    assert at(file, 36, 240) == " " * 205


def test_an_updated_boleto_has_interest_per_day_and_no_fine() -> None:
    t = title(interest_code="1", interest_value=D("0.33"), fine_pct=D("0"))
    lines = build_remittance(ACCOUNT, [t], nsa=1, generated_at=GENERATED).lines
    assert [at(x, 14, 14) for x in lines[2:-2]] == ["P", "Q"]
    assert at(lines[2], 118, 141) == "1" + "11012026" + "000000000000033"


def test_nothing_to_send_and_values_that_do_not_fit_are_refused() -> None:
    with pytest.raises(Exception, match="Não há boletos"):
        build_remittance(ACCOUNT, [], nsa=1, generated_at=GENERATED)
    with pytest.raises(ValueError, match="não cabe"):
        format_field(FILE_HEADER[0], "1234")
    with pytest.raises(TypeError):
        format_field(LAYOUTS["segmento P"][20], 1.5)


def test_bb_title_id_round_trips_and_foreign_ids_are_not_ours() -> None:
    assert bank_title_id(ACCOUNT, "0000000042") == "12345670000000042"
    assert our_number_of(ACCOUNT, "12345670000000042  ") == "0000000042"
    assert our_number_of(ACCOUNT, "99999990000000042") is None  # another convênio
    assert our_number_of(ACCOUNT, "ABC") is None
    assert our_number_of(ACCOUNT, "42") == "0000000042"


# ---------------------------------------------------------------- retorno

PAY_DAY = date(2026, 2, 9)


def test_a_retorno_with_a_payment_a_partial_payment_and_an_unknown_boleto() -> None:
    content = retorno_file(
        ACCOUNT,
        [
            Paid("12345670000000042", D("1000.00"), D("1030.00"), PAY_DAY, D("30.00")),
            Paid("12345670000000043", D("500.00"), D("200.00"), PAY_DAY),
            Paid("12345670009999999", D("80.00"), D("80.00"), PAY_DAY),
            Paid("12345670000000044", D("80.00"), D("0.00"), PAY_DAY, movement="02"),
        ],
        nsa=77,
    )
    r = parse_return(content)
    assert (r.bank_code, r.company_document, r.nsa) == ("001", "11222333000181", 77)
    full, partial, unknown, confirmed = r.titles
    assert full.line_number == 3 and partial.line_number == 5
    assert (full.title_id, full.face_value, full.charges, full.paid, full.paid_on) == (
        "12345670000000042",
        D("1000.00"),
        D("30.00"),
        D("1030.00"),
        PAY_DAY,
    )
    assert full.is_payment and full.movement_label == "Liquidação"
    assert full.credited_on == PAY_DAY
    assert (partial.paid, partial.face_value) == (D("200.00"), D("500.00"))
    assert our_number_of(ACCOUNT, unknown.title_id) == "0009999999"
    assert not confirmed.is_payment and confirmed.movement_label == "Entrada confirmada"


def lines_of(*titles: Paid) -> list[str]:
    return retorno_lines(ACCOUNT, list(titles) or [Paid("1", D("1"), D("1"), PAY_DAY)])


def problems(lines: list[str]) -> str:
    with pytest.raises(ReturnFileError) as err:
        parse_return(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return err.value.message


def test_malformed_retornos_say_which_line_and_what_is_wrong() -> None:
    lines = lines_of()
    assert "vazio" in problems([""])
    short = [*lines]
    short[2] = short[2][:238]
    assert "linha 3: tem 238 caracteres" in problems(short)
    remessa = [*lines]
    remessa[0] = remessa[0][:142] + "1" + remessa[0][143:]
    assert "linha 1: é um arquivo de remessa" in problems(remessa)
    bad_amount = [*lines]
    bad_amount[3] = bad_amount[3][:77] + "00000000ABC0000" + bad_amount[3][92:]
    assert "linha 4: valor pago (posições 78-92) não numérico" in problems(bad_amount)
    bad_date = [*lines]
    bad_date[3] = bad_date[3][:137] + "31022026" + bad_date[3][145:]
    assert "linha 4: data do pagamento (posições 138-145) não é uma data" in problems(bad_date)
    no_u = [*lines[:3], *lines[4:]]
    message = problems(no_u)
    assert "linha 3: segmento T sem o segmento U seguinte" in message
    assert "trailer de lote declara" in message and "trailer de arquivo declara" in message
    assert "conteúdo binário" in problems(["\x00"])


def test_payers_with_an_alphanumeric_cnpj_or_a_caepf() -> None:
    alnum = title(payer_document="12ABC34501DE35")
    caepf = title(payer_document="12345678901234", payer_document_type="CAEPF")
    lines = build_remittance(ACCOUNT, [alnum, caepf], nsa=3, generated_at=GENERATED).lines
    q1, q2 = (x for x in lines if x[7] == "3" and x[13] == "Q")
    assert at(q1, 18, 33) == "2" + "012ABC34501DE35"
    assert at(q2, 18, 33) == "9" + "012345678901234"
