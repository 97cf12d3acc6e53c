"""Our CPF, CNPJ and CNS checks agree with python-stdnum and validate-docbr.

The libraries are test oracles only (docs/domain/documents.md): a few
hundred generated values per document, half built valid, half random or with
one character changed. Known disagreements are excluded on purpose:
python-stdnum accepts CPFs with all-equal digits, which the rule refuses.
"""

import random
import string

import pytest
import validate_docbr
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

from services.rules.documents import (
    cnpj_check_digits,
    cns_from_pis,
    cpf_check_digits,
    format_cnpj,
    format_cpf,
    is_valid_cnpj,
    is_valid_cns,
    is_valid_cpf,
)

SAMPLES = 400
ALNUM = string.digits + string.ascii_uppercase


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _change_one(rng: random.Random, value: str, alphabet: str = string.digits) -> str:
    position = rng.randrange(len(value))
    return value[:position] + rng.choice(alphabet) + value[position + 1 :]


def _cpf_samples() -> list[str]:
    rng = random.Random(20260101)
    samples: list[str] = []
    for i in range(SAMPLES):
        base = _digits(rng, 9)
        cpf = base + cpf_check_digits(base)
        kind = i % 4
        if kind == 1:
            cpf = format_cpf(cpf)
        elif kind == 2:
            cpf = _change_one(rng, cpf)
        elif kind == 3:
            cpf = _digits(rng, 11)
        samples.append(cpf)
    return [s for s in samples if len(set(s.replace(".", "").replace("-", ""))) > 1]


def _cnpj_samples(alphabet: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    samples: list[str] = []
    for i in range(SAMPLES):
        base = "".join(rng.choice(alphabet) for _ in range(12))
        cnpj = base + cnpj_check_digits(base)
        kind = i % 5
        if kind == 1:
            cnpj = format_cnpj(cnpj)
        elif kind == 2:
            cnpj = _change_one(rng, cnpj[:12], alphabet) + cnpj[12:]
        elif kind == 3:
            cnpj = cnpj[:12] + _digits(rng, 2)
        elif kind == 4:
            cnpj = "".join(rng.choice(alphabet) for _ in range(12)) + _digits(rng, 2)
        samples.append(cnpj)
    return samples


def _cns_samples() -> list[str]:
    rng = random.Random(15)
    samples: list[str] = []
    for i in range(SAMPLES):
        kind = i % 5
        if kind == 0:
            cns = cns_from_pis(rng.choice("12") + _digits(rng, 10))
        elif kind == 1:
            body = rng.choice("789") + _digits(rng, 13)
            check = -sum(int(ch) * (15 - j) for j, ch in enumerate(body)) % 11
            cns = body + str(check % 10)  # a 10 leaves an invalid number: fine too
        elif kind == 2:
            cns = _change_one(rng, cns_from_pis(rng.choice("12") + _digits(rng, 10)))
        elif kind == 3:
            pis = rng.choice("12") + _digits(rng, 10)
            cns = pis + rng.choice(["000", "001"]) + rng.choice(string.digits)
        else:
            cns = _digits(rng, 15)
        samples.append(cns)
    return samples


CPF_SAMPLES = _cpf_samples()
NUMERIC_CNPJ_SAMPLES = _cnpj_samples(string.digits, 14)
ALPHANUMERIC_CNPJ_SAMPLES = _cnpj_samples(ALNUM, 2229)
CNS_SAMPLES = _cns_samples()


def test_the_generated_samples_mix_valid_and_invalid_values() -> None:
    for samples, check in [
        (CPF_SAMPLES, is_valid_cpf),
        (NUMERIC_CNPJ_SAMPLES, is_valid_cnpj),
        (ALPHANUMERIC_CNPJ_SAMPLES, is_valid_cnpj),
        (CNS_SAMPLES, is_valid_cns),
    ]:
        verdicts = [check(s) for s in samples]
        assert len(samples) > 300
        assert 0.2 < sum(verdicts) / len(verdicts) < 0.9


@pytest.mark.parametrize("cpf", CPF_SAMPLES)
def test_cpf_validity_agrees_with_python_stdnum_and_validate_docbr(cpf: str) -> None:
    expected = is_valid_cpf(cpf)
    assert stdnum_cpf.is_valid(cpf) == expected
    assert validate_docbr.CPF().validate(cpf) == expected


@pytest.mark.parametrize("cnpj", NUMERIC_CNPJ_SAMPLES + ALPHANUMERIC_CNPJ_SAMPLES)
def test_cnpj_validity_agrees_with_python_stdnum_and_validate_docbr(cnpj: str) -> None:
    expected = is_valid_cnpj(cnpj)
    assert stdnum_cnpj.is_valid(cnpj) == expected
    assert validate_docbr.CNPJ().validate(cnpj) == expected


@pytest.mark.parametrize("cns", CNS_SAMPLES)
def test_cns_validity_agrees_with_validate_docbr(cns: str) -> None:
    assert validate_docbr.CNS().validate(cns) == is_valid_cns(cns)


def test_cnpj_check_digit_helper_agrees_with_python_stdnum() -> None:
    rng = random.Random(7)
    for _ in range(SAMPLES):
        base12 = "".join(rng.choice(ALNUM) for _ in range(12))
        assert cnpj_check_digits(base12) == stdnum_cnpj.calc_check_digits(base12)


@pytest.mark.parametrize("cnpj", ["12.ABC.345/01DE-35", "12abc34501de35"])
def test_receita_alphanumeric_example_is_valid_for_every_implementation(cnpj: str) -> None:
    assert is_valid_cnpj(cnpj)
    assert stdnum_cnpj.is_valid(cnpj)
    assert validate_docbr.CNPJ().validate(cnpj)
