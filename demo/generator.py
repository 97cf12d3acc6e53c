"""Deterministic demo data: a whole dental plan operator in one command (`portal-seed`).

The same `seed` and the same `today` give the same rows, byte for byte (the bcrypt salt
of the demo password comes from the seed too). Names, streets and e-mails come from
pools drawn once from Faker('pt_BR') and combined with `random.Random(seed)`, so a
million beneficiaries cost no Faker call each.

Rows are written with SQLAlchemy Core `insert()` executemany in chunks, with ids
assigned here; every chunk flushes all pending tables in foreign-key order, so memory
stays bounded. Documents (CPF, CNPJ, CAEPF), card numbers, protocol numbers and business days come
from the pure rules in `services.rules` (stdlib only, so the data layer may use them:
see the import-linter contract's `ignore_imports`). The invoices come from the billing
run of `services.billing`, the one other service the generator calls (also listed there,
with `services.actors` for the account manager who runs it).

Simplifications, on purpose:
- Prices: the operator's reference tables (no contract) are four yearly tables from May 1,
  ~9% apart; Sorriso Essencial is sold at a single price ("preço único": one row, band 1,
  every age). Each contracted plan has its own tables, which billing charges: the
  reference table in force on the contract's last anniversary before the 24-month window,
  at a negotiated factor (92% to 105%), then readjusted on every anniversary month (the
  month the contract started) by the contract's own percentage, or, for contracts under
  30 lives, by the pool's one percentage of that year (RN 565/2022).
- Coverage: a regular coverage period per beneficiary, on its company and plan, from
  the effective date to the exclusion date (the first day not covered). About
  `PLAN_CHANGE_SHARE` of the families still covered change plan on the first day of an
  invoiced month (half of the changes back-dated): the holder and the dependents active
  at the change follow, their period ends on that date and one opens on the new plan.
  No transfers and no arts. 30/31 stays. Every movement is "applied".
- Invoices: the billing run itself (services.billing.billing_run, as the account manager
  over every company) issues the invoices of the last `INVOICE_MONTHS` months, oldest
  first, each run dated the 25th of the month before; every company's billing_start is
  the first of those months, so the demo's lines obey the ledger by construction. Each
  run knows only the coverage received before its day (`_Demo.learn`): an inclusion
  received after the run of its month is caught up on the next invoice ("retroactive"
  lines), an exclusion received after a month was charged is credited ("credit" lines);
  the last run knows everything. Above `FULL_HISTORY_UP_TO` beneficiaries only the last
  `BIG_SEED_INVOICE_MONTHS` months are invoiced (`invoice_months` changes it). Then
  invoices up to two months back are paid (a few late, with fine and interest), last
  month's mostly paid (never 10001's: overdue) and the current month's open. No boletos:
  finance issues them on demand. The runs' audit records older than
  `RECENT_AUDIT_DAYS` days are left out, like every older audit record here.
- Waiting periods: each beneficiary's, as its inclusion computed them (the contract's
  default days, RN 195 art. 6 exemption), with the company's demo size as participants.
- The operator has a plausible bank agreement (Banco do Brasil, convênio 1234567,
  carteira 17), so boletos can be issued.
- Movements: an inclusion for every beneficiary who became effective in the last 12
  months and an exclusion for every inactive one; audit records only for the last
  `RECENT_AUDIT_DAYS` days (movements, requests, logins, the pending user's creation), so
  the audit trail of a fresh demo has recent entries.
- The pending user 100003 has its first access invitation in the outbox, with a working
  single-use link to `base_url` (valid 7 days from its creation, 3 days before `today`).
  Its token is drawn from the seed, like everything here: a demo link, known to anyone
  with the seed, never a production one.
- Utilization: on average `utilization_per_beneficiary` procedures per beneficiary in
  the last 24 months, spread by active months; costs are scaled per company so that
  the loss ratio (utilization / premiums) lands between about 40% and 90%.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import math
import random
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import bcrypt
from faker import Faker
from sqlalchemy import Engine, Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from data.db import make_engine, make_session_factory, upgrade_to_head
from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Base,
    Beneficiary,
    Company,
    ContractedPlan,
    CostCentre,
    Counter,
    CoveragePeriod,
    EconomicGroup,
    Invoice,
    InvoiceLine,
    Movement,
    Operator,
    OutboxEmail,
    PasswordResetToken,
    Payment,
    Plan,
    PriceBand,
    PriceTable,
    Protocol,
    ProtocolEvent,
    Provider,
    User,
    UtilizationEvent,
)
from data.uow import UnitOfWork
from services.actors import Actor, Permission, Role
from services.billing import billing_run
from services.rules.calendar import add_business_days, is_business_day
from services.rules.card_numbers import card_number, format_card_number
from services.rules.documents import caepf_check_digits, cnpj_check_digits, cpf_check_digits
from services.rules.formats import format_int
from services.rules.prices import band_rows, in_pool, readjusted_price
from services.rules.protocols import protocol_number as rules_protocol_number
from services.rules.waiting import waiting_periods

DEMO_PASSWORD = "Sorriso@2026"
BCRYPT_COST = 12
CHUNK = 5_000
INVOICE_MONTHS = 24
# Above this many beneficiaries the demo invoices only the last BIG_SEED_INVOICE_MONTHS
# months (billing_start is the first of them): every invoice comes from the billing run,
# and 24 runs over a million people would take many minutes.
FULL_HISTORY_UP_TO = 50_000
BIG_SEED_INVOICE_MONTHS = 3
ANS_REGISTRATION = "421839"
CARD_PREFIX = "0001"
OPERATOR_NAME = "Sorriso Odontologia S.A."
ALL_PERMISSIONS = sorted(
    ["movements", "finance", "reports", "protocols", "user_admin", "personal_data"]
)
CENT = Decimal("0.01")
RECENT_AUDIT_DAYS = 14
INVITATION_DAYS = 7  # as services.access.accounts.INVITATION_VALIDITY
INVITATION_SUBJECT = "Portal Empresa: convite para o seu primeiro acesso"

# ---------------------------------------------------------------- reference data

# name, state, IBGE code, DDD, CEP ranges (first 5 digits), latitude, longitude,
# neighbourhoods, weight (how many people/providers live there)
_CITY_ROWS: tuple[tuple[str, str, str, str, tuple[int, int], float, float, str, int], ...] = (
    (
        "São Paulo",
        "SP",
        "3550308",
        "11",
        (1000, 5999),
        -23.5505,
        -46.6333,
        "Pinheiros|Moema|Tatuapé|Santana|Vila Mariana|Perdizes|Itaim Bibi|Mooca|Lapa|"
        "Butantã|Ipiranga|Jabaquara|Vila Madalena|Bela Vista|Liberdade",
        30,
    ),
    (
        "Campinas",
        "SP",
        "3509502",
        "19",
        (13000, 13139),
        -22.9099,
        -47.0626,
        "Cambuí|Taquaral|Barão Geraldo|Centro|Jardim Chapadão",
        5,
    ),
    (
        "Santos",
        "SP",
        "3548500",
        "13",
        (11000, 11099),
        -23.9608,
        -46.3336,
        "Gonzaga|Boqueirão|Ponta da Praia|Embaré|Aparecida",
        3,
    ),
    (
        "São Bernardo do Campo",
        "SP",
        "3548708",
        "11",
        (9600, 9899),
        -23.6914,
        -46.5646,
        "Centro|Rudge Ramos|Baeta Neves|Nova Petrópolis",
        3,
    ),
    (
        "Ribeirão Preto",
        "SP",
        "3543402",
        "16",
        (14000, 14114),
        -21.1775,
        -47.8103,
        "Centro|Jardim Irajá|Alto da Boa Vista|Ribeirânia",
        3,
    ),
    (
        "Guarulhos",
        "SP",
        "3518800",
        "11",
        (7000, 7399),
        -23.4538,
        -46.5333,
        "Centro|Vila Galvão|Macedo|Bonsucesso",
        3,
    ),
    (
        "Osasco",
        "SP",
        "3534401",
        "11",
        (6000, 6299),
        -23.5329,
        -46.7917,
        "Centro|Presidente Altino|Vila Yara|Jardim Veloso",
        2,
    ),
    (
        "Rio de Janeiro",
        "RJ",
        "3304557",
        "21",
        (20000, 23799),
        -22.9068,
        -43.1729,
        "Copacabana|Tijuca|Botafogo|Barra da Tijuca|Méier|Leblon|Ipanema|Flamengo|"
        "Campo Grande|Madureira",
        14,
    ),
    (
        "Niterói",
        "RJ",
        "3303302",
        "21",
        (24000, 24399),
        -22.8832,
        -43.1034,
        "Icaraí|Centro|Santa Rosa|São Francisco",
        3,
    ),
    (
        "Belo Horizonte",
        "MG",
        "3106200",
        "31",
        (30000, 31999),
        -19.9167,
        -43.9345,
        "Savassi|Funcionários|Pampulha|Buritis|Lourdes|Castelo|Barreiro",
        8,
    ),
    (
        "Uberlândia",
        "MG",
        "3170206",
        "34",
        (38400, 38419),
        -18.9186,
        -48.2772,
        "Centro|Santa Mônica|Tibery|Saraiva",
        2,
    ),
    (
        "Juiz de Fora",
        "MG",
        "3136702",
        "32",
        (36000, 36099),
        -21.7642,
        -43.3496,
        "Centro|São Mateus|Granbery|Cascatinha",
        2,
    ),
    (
        "Curitiba",
        "PR",
        "4106902",
        "41",
        (80000, 82999),
        -25.4284,
        -49.2733,
        "Batel|Água Verde|Centro|Bigorrilho|Portão|Boa Vista|Cabral",
        6,
    ),
    (
        "Londrina",
        "PR",
        "4113700",
        "43",
        (86000, 86099),
        -23.3045,
        -51.1696,
        "Centro|Gleba Palhano|Jardim Higienópolis",
        2,
    ),
    (
        "Porto Alegre",
        "RS",
        "4314902",
        "51",
        (90000, 91999),
        -30.0346,
        -51.2177,
        "Moinhos de Vento|Menino Deus|Petrópolis|Bom Fim|Cidade Baixa|Tristeza",
        6,
    ),
    (
        "Caxias do Sul",
        "RS",
        "4305108",
        "54",
        (95000, 95124),
        -29.1678,
        -51.1794,
        "Centro|São Pelegrino|Exposição",
        2,
    ),
    (
        "Salvador",
        "BA",
        "2927408",
        "71",
        (40000, 42599),
        -12.9777,
        -38.5016,
        "Barra|Pituba|Rio Vermelho|Itaigara|Graça|Brotas|Imbuí",
        6,
    ),
    (
        "Feira de Santana",
        "BA",
        "2910800",
        "75",
        (44000, 44099),
        -12.2664,
        -38.9663,
        "Centro|Kalilândia|Santa Mônica",
        2,
    ),
    (
        "Recife",
        "PE",
        "2611606",
        "81",
        (50000, 52999),
        -8.0476,
        -34.8770,
        "Boa Viagem|Casa Forte|Graças|Espinheiro|Madalena|Torre",
        5,
    ),
    (
        "Olinda",
        "PE",
        "2609600",
        "81",
        (53000, 53299),
        -8.0089,
        -34.8553,
        "Carmo|Casa Caiada|Bairro Novo",
        2,
    ),
    (
        "Brasília",
        "DF",
        "5300108",
        "61",
        (70000, 72799),
        -15.7939,
        -47.8828,
        "Asa Sul|Asa Norte|Lago Sul|Sudoeste|Águas Claras|Taguatinga",
        6,
    ),
    (
        "Florianópolis",
        "SC",
        "4205407",
        "48",
        (88000, 88099),
        -27.5954,
        -48.5480,
        "Centro|Trindade|Agronômica|Lagoa da Conceição|Estreito",
        3,
    ),
    (
        "Joinville",
        "SC",
        "4209102",
        "47",
        (89200, 89239),
        -26.3045,
        -48.8487,
        "Centro|América|Atiradores|Glória",
        2,
    ),
    (
        "Blumenau",
        "SC",
        "4202404",
        "47",
        (89000, 89099),
        -26.9194,
        -49.0661,
        "Centro|Velha|Vila Nova|Garcia",
        2,
    ),
    (
        "Goiânia",
        "GO",
        "5208707",
        "62",
        (74000, 74899),
        -16.6869,
        -49.2648,
        "Setor Bueno|Setor Marista|Setor Oeste|Jardim Goiás|Setor Central",
        4,
    ),
    (
        "Anápolis",
        "GO",
        "5201108",
        "62",
        (75000, 75159),
        -16.3281,
        -48.9530,
        "Centro|Jundiaí|Jardim Alexandrina",
        1,
    ),
)


@dataclass(frozen=True)
class _City:
    name: str
    state: str
    ibge: str
    ddd: str
    cep_range: tuple[int, int]
    lat: float
    lon: float
    neighbourhoods: tuple[str, ...]
    weight: int


CITIES: tuple[_City, ...] = tuple(
    _City(n, st, ibge, ddd, cep, lat, lon, tuple(nb.split("|")), w)
    for n, st, ibge, ddd, cep, lat, lon, nb, w in _CITY_ROWS
)

_STREET_NAMES = (
    "das Flores",
    "dos Andradas",
    "XV de Novembro",
    "Sete de Setembro",
    "Barão de Mauá",
    "Tiradentes",
    "Marechal Deodoro",
    "Dom Pedro II",
    "Santos Dumont",
    "Getúlio Vargas",
    "Rui Barbosa",
    "José Bonifácio",
    "Duque de Caxias",
    "Princesa Isabel",
    "Frei Caneca",
    "Voluntários da Pátria",
    "das Palmeiras",
    "dos Ipês",
    "São João",
    "Santo Antônio",
    "Brasil",
    "Paraná",
    "Bahia",
    "Minas Gerais",
    "Amazonas",
    "da Independência",
    "da República",
    "Castro Alves",
    "Machado de Assis",
    "Monteiro Lobato",
    "Cecília Meireles",
    "Carlos Gomes",
    "Oswaldo Cruz",
    "Vital Brasil",
    "Anita Garibaldi",
    "Bento Gonçalves",
    "Osvaldo Aranha",
    "Padre Anchieta",
    "Benjamin Constant",
    "Floriano Peixoto",
    "Quintino Bocaiúva",
    "Joaquim Nabuco",
    "das Acácias",
    "dos Bandeirantes",
    "Senador Feijó",
    "Conselheiro Furtado",
    "Visconde de Pirajá",
)
_STREET_KINDS = ("Rua", "Rua", "Rua", "Rua", "Avenida", "Avenida", "Travessa", "Alameda")
_HONORIFICS_M = ("", "", "", "Professor ", "Doutor ", "Coronel ", "Padre ", "Engenheiro ")
_HONORIFICS_F = ("", "", "", "Professora ", "Doutora ", "Dona ")
_MAIL_DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com.br",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
)
_SECTORS = (
    "Engenharia",
    "Comércio de Alimentos",
    "Consultoria Empresarial",
    "Metalúrgica",
    "Farmacêutica",
    "Construções",
    "Têxtil",
    "Educação",
    "Hotelaria",
    "Transportes",
    "Informática",
    "Supermercados",
    "Autopeças",
    "Contabilidade",
    "Indústria Química",
    "Serviços Médicos",
    "Embalagens",
    "Móveis",
    "Calçados",
    "Agronegócios",
)
MARITAL_SINGLE = ("Solteiro(a)", "Solteiro(a)", "Solteiro(a)", "Divorciado(a)", "Viúvo(a)")
MARITAL_COUPLE = ("Casado(a)", "Casado(a)", "União estável")
HOLDER_EXCLUSION_REASONS = ("demissao", "pedido", "aposentadoria", "outros", "obito")
HOLDER_EXCLUSION_WEIGHTS = (55, 20, 8, 12, 5)
SPECIALTIES = (
    "Clínica geral",
    "Ortodontia",
    "Endodontia",
    "Periodontia",
    "Implantodontia",
    "Odontopediatria",
    "Prótese dentária",
    "Cirurgia bucomaxilofacial",
    "Radiologia odontológica",
    "Estomatologia",
)
COVERAGE_LABELS = (
    "Prevenção",
    "Dentística",
    "Endodontia",
    "Periodontia",
    "Cirurgia",
    "Prótese",
    "Ortodontia",
    "Radiologia",
    "Urgência",
)

# TUSS (terminologia unificada da saúde suplementar), dental procedures:
# code, name, group, typical cost (R$), relative frequency, "c" child only / "a" adult only
PROCEDURES: tuple[tuple[str, str, str, str, float, str], ...] = (
    ("81000065", "Consulta odontológica inicial", "Diagnóstico", "60.00", 14, ""),
    ("81000030", "Consulta odontológica", "Diagnóstico", "45.00", 8, ""),
    ("81000049", "Consulta odontológica de urgência", "Urgência", "70.00", 5, ""),
    ("81000057", "Consulta odontológica de urgência 24 hs", "Urgência", "95.00", 1.5, ""),
    ("85200174", "Curativo endodôntico em situação de urgência", "Urgência", "80.00", 1.5, ""),
    ("81000421", "Radiografia periapical", "Radiologia", "18.00", 10, ""),
    ("81000375", "Radiografia interproximal - bite-wing", "Radiologia", "18.00", 4, ""),
    (
        "81000405",
        "Radiografia panorâmica de mandíbula/maxila (ortopantomografia)",
        "Radiologia",
        "55.00",
        4,
        "",
    ),
    ("81000294", "Levantamento radiográfico (exame radiodôntico)", "Radiologia", "90.00", 1, ""),
    ("84000198", "Profilaxia: polimento coronário", "Prevenção", "40.00", 12, ""),
    ("84000090", "Aplicação tópica de flúor", "Prevenção", "25.00", 6, ""),
    ("84000074", "Aplicação de selante de fóssulas e fissuras", "Prevenção", "35.00", 2.5, "c"),
    ("84000163", "Controle de biofilme (placa bacteriana)", "Prevenção", "30.00", 3, ""),
    ("84000139", "Atividade educativa em saúde bucal", "Prevenção", "20.00", 2, ""),
    ("85100196", "Restauração em resina fotopolimerizável 1 face", "Dentística", "75.00", 8, ""),
    ("85100200", "Restauração em resina fotopolimerizável 2 faces", "Dentística", "95.00", 5, ""),
    ("85100218", "Restauração em resina fotopolimerizável 3 faces", "Dentística", "115.00", 2, ""),
    ("85100137", "Restauração em ionômero de vidro - 1 face", "Dentística", "55.00", 2, ""),
    ("85100099", "Restauração de amálgama - 1 face", "Dentística", "55.00", 1.5, ""),
    ("85300047", "Raspagem supra-gengival", "Periodontia", "45.00", 4, "a"),
    ("85300039", "Raspagem sub-gengival/alisamento radicular", "Periodontia", "65.00", 2, "a"),
    ("85300098", "Manutenção periodontal", "Periodontia", "55.00", 1.5, "a"),
    ("85200166", "Tratamento endodôntico unirradicular", "Endodontia", "280.00", 1.5, ""),
    ("85200140", "Tratamento endodôntico birradicular", "Endodontia", "360.00", 1, "a"),
    ("85200158", "Tratamento endodôntico multirradicular", "Endodontia", "470.00", 0.8, "a"),
    ("85200042", "Pulpotomia", "Endodontia", "90.00", 0.8, ""),
    ("82000875", "Exodontia simples de permanente", "Cirurgia", "95.00", 2.5, "a"),
    ("83000089", "Exodontia simples de decíduo", "Cirurgia", "60.00", 2, "c"),
    ("82000859", "Exodontia de raiz residual", "Cirurgia", "100.00", 0.8, "a"),
    ("82001286", "Remoção de dentes inclusos / impactados", "Cirurgia", "320.00", 0.5, "a"),
    ("85400157", "Coroa total metalo cerâmica", "Prótese", "650.00", 0.4, "a"),
    ("85400220", "Núcleo metálico fundido", "Prótese", "180.00", 0.3, "a"),
    ("85400408", "Prótese total", "Prótese", "850.00", 0.2, "a"),
    ("86000098", "Aparelho ortodôntico fixo metálico", "Ortodontia", "650.00", 0.3, ""),
    (
        "86000357",
        "Manutenção de aparelho ortodôntico - aparelho fixo",
        "Ortodontia",
        "110.00",
        2.5,
        "",
    ),
)

# code, name, ANS registration, coverage groups, band-1 price of the current table
PLANS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    (
        "ODT-ESS",
        "Sorriso Essencial",
        "483920191",
        (
            "Prevenção",
            "Dentística",
            "Endodontia",
            "Periodontia",
            "Cirurgia",
            "Radiologia",
            "Urgência",
        ),
        "29.90",
    ),
    (
        "ODT-PLUS",
        "Sorriso Plus",
        "483921199",
        (
            "Prevenção",
            "Dentística",
            "Endodontia",
            "Periodontia",
            "Cirurgia",
            "Prótese",
            "Radiologia",
            "Urgência",
        ),
        "44.90",
    ),
    (
        "ODT-ORTO",
        "Sorriso Orto",
        "483922187",
        (
            "Prevenção",
            "Dentística",
            "Endodontia",
            "Periodontia",
            "Cirurgia",
            "Ortodontia",
            "Radiologia",
            "Urgência",
        ),
        "59.90",
    ),
    ("ODT-PREM", "Sorriso Premium", "483923175", COVERAGE_LABELS, "86.90"),
)
# Price of each band relative to band 1 (RN 63/2003: last <= 6x first; increase 7->10
# not above increase 1->7; never decreasing).
BAND_FACTORS = (
    Decimal("1.00"),
    Decimal("1.05"),
    Decimal("1.10"),
    Decimal("1.15"),
    Decimal("1.22"),
    Decimal("1.30"),
    Decimal("1.38"),
    Decimal("1.46"),
    Decimal("1.55"),
    Decimal("1.65"),
)
AGE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 18),
    (19, 23),
    (24, 28),
    (29, 33),
    (34, 38),
    (39, 43),
    (44, 48),
    (49, 53),
    (54, 58),
    (59, None),
)
_BAND_UPPERS = [upper for _, upper in AGE_BANDS if upper is not None]
# Yearly adjustment of the operator's reference tables, from the older table to the
# newer one (current first): four reference tables cover any contract table's start.
ADJUSTMENTS = (Decimal("1.092"), Decimal("1.087"), Decimal("1.081"))
# Share of the families still covered that change plan in the invoiced months.
PLAN_CHANGE_SHARE = 0.04
MOVEMENT_SUBJECTS = {
    "inclusion": "Inclusão de beneficiário",
    "exclusion": "Exclusão de beneficiário",
    "plan_change": "Alteração de plano",
}
# The plan sold at a single price ("preço único": one price for every age) and the band
# whose price it takes from the band factors.
SINGLE_PRICE_PLAN = "ODT-ESS"
SINGLE_PRICE_BAND = 4
# The operator's agreement with its bank (Banco do Brasil: 7-digit agreement, wallet 17).
BANK_AGREEMENT = {
    "bank_agreement": "1234567",
    "bank_wallet": "17",
    "bank_branch": "1234-5",
    "bank_account": "12345-6",
}

REQUEST_SUBJECTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "invoice_question",
        "Dúvida sobre fatura",
        "Solicitamos o detalhamento da fatura de competência {month}, que veio com valor "
        "diferente do esperado.",
        "A diferença corresponde à mudança de faixa etária de beneficiários e às inclusões "
        "do período; o demonstrativo detalhado está disponível no portal.",
    ),
    (
        "card_copy",
        "Segunda via de carteirinha",
        "Beneficiário perdeu a carteirinha e precisa da segunda via.",
        "Segunda via emitida; a carteirinha digital já está disponível no aplicativo.",
    ),
    (
        "contract",
        "Alteração contratual",
        "Gostaríamos de avaliar a inclusão de um novo plano no contrato da empresa.",
        "Proposta de aditivo contratual enviada ao e-mail do contato da empresa.",
    ),
    (
        "other",
        "Atualização de dados cadastrais da empresa",
        "Mudamos de endereço e de telefone de contato; pedimos a atualização do cadastro.",
        "Dados cadastrais atualizados conforme solicitado.",
    ),
    (
        "invoice_question",
        "Segunda via de boleto",
        "Precisamos da segunda via do boleto da fatura de competência {month}.",
        "Segunda via disponível em Financeiro > Segunda via de boleto.",
    ),
    (
        "other",
        "Dúvida sobre rede credenciada",
        "Há dentistas credenciados para ortodontia perto da nossa unidade?",
        "Enviamos a relação de prestadores de ortodontia da região; a busca de rede do "
        "portal mostra todos.",
    ),
    (
        "card_copy",
        "Carteirinha com nome incorreto",
        "O nome de um dependente saiu com erro de grafia na carteirinha.",
        "Nome corrigido e nova carteirinha emitida.",
    ),
)

GENERAL_CONDITIONS = """\
CONDIÇÕES GERAIS DO PLANO {name} (Registro ANS nº {ans})

1. Objeto. O plano {name} é um plano privado de assistência odontológica coletivo \
empresarial, contratado pela empresa estipulante em favor dos seus empregados e \
respectivos dependentes, na segmentação odontológica, com abrangência geográfica \
nacional e cobertura dos procedimentos do Rol de Procedimentos e Eventos em Saúde da \
ANS vigente à época do evento.

2. Coberturas. Estão cobertos os grupos de procedimentos: {coverage}. Os \
procedimentos são realizados exclusivamente pela rede credenciada da operadora, \
mediante apresentação da carteirinha e de documento de identidade.

3. Carências. Urgências e emergências: 24 horas. Demais procedimentos: até 180 dias. \
Não há carência para contratos com 30 ou mais participantes quando a inclusão é \
solicitada em até 30 dias da celebração do contrato ou da admissão do empregado \
(RN 195/2009, consolidada na RN 557/2022).

4. Inclusões e exclusões. As movimentações cadastrais são feitas pela estipulante no \
Portal Empresa. Dependentes admitidos: cônjuge ou companheiro(a), filhos e enteados \
conforme os limites de idade do contrato. A exclusão produz efeitos a partir da \
comunicação à operadora, vedada a exclusão retroativa.

5. Mensalidades. O valor é cobrado por beneficiário, conforme a faixa etária \
(RN 63/2003), e reajustado anualmente no aniversário do contrato. O pagamento em atraso \
sujeita a estipulante a multa de 2% e juros de mora de 1% ao mês, calculados pro rata \
die.
"""


# ---------------------------------------------------------------- small helpers


def cpf_with_check_digits(base9: str) -> str:
    """The 11-digit CPF whose first 9 digits are `base9`."""
    return base9 + cpf_check_digits(base9)


def cnpj_with_check_digits(base12: str) -> str:
    """The 14-character CNPJ (numeric or alphanumeric) with base `base12`."""
    return base12.upper() + cnpj_check_digits(base12.upper())


def caepf_with_check_digits(base12: str) -> str:
    """The 14-digit CAEPF with base `base12` (9 digits of the owner's CPF + sequence)."""
    return base12 + caepf_check_digits(base12)


def provisional_cns(rng: random.Random) -> str:
    """A provisional CNS (first digit 7, 8 or 9; sum of digit * (15 - i) is 0 mod 11)."""
    while True:
        digits = [rng.choice((7, 8, 9))] + [rng.randrange(10) for _ in range(13)]
        last = -sum(d * (15 - i) for i, d in enumerate(digits)) % 11
        if last < 10:
            return "".join(map(str, digits)) + str(last)


def protocol_number(ans: str, day: date, sequence: int) -> str:
    return rules_protocol_number(ans, day, sequence)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - int((on.month, on.day) < (birth.month, birth.day))


def age_band(age: int) -> int:
    return bisect.bisect_left(_BAND_UPPERS, age) + 1


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _days_in_month(index: int) -> int:
    return (_month_start(index + 1) - _month_start(index)).days


def _slug(s: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_.lower() if ch.isalnum())


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def _at(d: date, rng: random.Random, earliest_hour: int = 11) -> datetime:
    """A business-hours instant of `d` (Brasília 08:00-18:59 is 11:00-21:59 UTC)."""
    return datetime(
        d.year,
        d.month,
        d.day,
        rng.randint(earliest_hour, 21),
        rng.randrange(60),
        rng.randrange(60),
        tzinfo=UTC,
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def price_table_cents(band1: Decimal, adjustments_back: int) -> list[int]:
    """Prices (cents) of the 10 bands for a table `adjustments_back` periods old."""
    base = band1
    for factor in ADJUSTMENTS[:adjustments_back]:
        base = (base / factor).quantize(CENT, ROUND_HALF_UP)
    return [_cents((base * f).quantize(CENT, ROUND_HALF_UP)) for f in BAND_FACTORS]


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class DemoSummary:
    """How many rows of each kind the demo wrote."""

    companies: int
    economic_groups: int
    plans: int
    price_tables: int
    users: int
    providers: int
    beneficiaries: int
    active_beneficiaries: int
    movements: int
    protocols: int
    protocol_events: int
    invoices: int
    invoice_lines: int
    payments: int
    utilization_events: int

    def line(self) -> str:
        return (
            f"{self.companies} empresas ({self.economic_groups} grupos econômicos), "
            f"{self.plans} planos ({self.price_tables} tabelas de preço), "
            f"{self.beneficiaries} beneficiários "
            f"({self.active_beneficiaries} ativos), {self.users} usuários, "
            f"{self.providers} prestadores, {self.movements} movimentações, "
            f"{self.protocols} protocolos ({self.protocol_events} eventos), "
            f"{self.invoices} faturas "
            f"({self.invoice_lines} linhas, {self.payments} pagamentos), "
            f"{self.utilization_events} utilizações"
        )


# ---------------------------------------------------------------- writer


# The demo companies' cost centres (the first three or four of each) and how holders
# spread over them (index by id mod 7).
COST_CENTRES = (
    ("ADM", "Administração"),
    ("OPE", "Operações"),
    ("COM", "Comercial"),
    ("TI", "Tecnologia da Informação"),
)
COST_CENTRE_SPREAD = (0, 1, 1, 1, 2, 2, 3)

_INSERT_ORDER: tuple[type[Base], ...] = (
    Operator,
    EconomicGroup,
    Company,
    Plan,
    ContractedPlan,
    PriceTable,
    PriceBand,
    User,
    AccountManagerCompany,
    Provider,
    CostCentre,
    Beneficiary,
    Protocol,
    ProtocolEvent,
    Movement,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    Payment,
    UtilizationEvent,
    Counter,
    AuditRecord,
    OutboxEmail,
    PasswordResetToken,
)


class _Writer:
    """Buffers rows per table; a full buffer flushes every table in foreign-key order."""

    def __init__(self, conn: Connection, chunk: int) -> None:
        self.conn = conn
        self.chunk = chunk
        self.tables: dict[str, Table] = {
            m.__tablename__: Base.metadata.tables[m.__tablename__] for m in _INSERT_ORDER
        }
        self.buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in self.tables}
        self.counts: dict[str, int] = dict.fromkeys(self.tables, 0)
        self.ids: dict[str, int] = dict.fromkeys(self.tables, 0)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def add(self, table: str, row: dict[str, Any]) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        for name, table in self.tables.items():
            buffer = self.buffers[name]
            if buffer:
                self.conn.execute(insert(table), buffer)
                self.counts[name] += len(buffer)
                buffer.clear()
        self.conn.commit()


# ---------------------------------------------------------------- generator


@dataclass
class _CompanyInfo:
    id: int
    code: str
    index: int
    city: _City
    contract_start: date
    due_day: int
    cutoff_day: int
    plan_ids: list[int]
    plan_weights: list[float]
    parents_allowed: bool
    actor_ids: list[int]
    fine_pct: Decimal
    interest_pct: Decimal
    loss_ratio: float
    target: int = 0
    contracts: dict[int, int] = field(default_factory=dict)  # plan id -> contracted plan id
    cost_centres: list[int] = field(default_factory=list)  # ids, as COST_CENTRES lists them


# (id, plan_id, birth, effective, exclusion or None, state, is_child)
_Record = tuple[int, int, date, date, date | None, str, bool]


class _Demo:
    def __init__(
        self,
        writer: _Writer,
        *,
        companies: int,
        beneficiaries: int,
        seed: int,
        today: date,
        utilization: float,
        progress: Callable[[str], None],
        base_url: str = "http://localhost:8501",
        invoice_months: int = INVOICE_MONTHS,
    ) -> None:
        self.w = writer
        self.base_url = base_url.rstrip("/")
        self.seed = seed
        # Its own stream: the recent activity leaves every other row as it was.
        self.activity_rng = random.Random(f"{seed}-recent-activity")
        self.n_companies = companies
        self.n_beneficiaries = beneficiaries
        self.today = today
        self.yesterday = today - timedelta(days=1)
        self.utilization = utilization
        self.progress = progress
        self.rng = random.Random(seed)
        self.change_rng = random.Random(f"{seed}-plan-changes")
        self.cpf_offset = self.rng.randrange(10**9)
        self.cpf_count = 0
        self.cur_idx = _month_index(today)
        self.first_idx = self.cur_idx - INVOICE_MONTHS + 1
        self.window_start = _month_start(self.first_idx)
        # The invoiced months: billing_start (each company's) .. the current month.
        self.bill_first_idx = self.cur_idx - invoice_months + 1
        self.billing_start = _month_start(self.bill_first_idx)
        self.invoices = 0
        self.payment_plans: dict[int, dict[int, tuple[datetime, date | None, str | None]]] = {}
        # Coverage the billing runs learn late (see `bill`): periods whose inclusion was
        # received after the first run, and exclusions received after it.
        self.first_run_at = self.issued_at(self.bill_first_idx)
        self.late_periods: list[tuple[datetime, dict[str, Any], datetime | None]] = []
        self.late_ends: list[tuple[datetime, int, date]] = []
        self.invoice_lines = 0
        self.protocol_seq: dict[date, int] = {}
        self.active = 0
        self.manager_id = 0
        self.operator_id = 0
        self._contacts: dict[int, tuple[str, str, date]] = {}
        self._movement_protocols = 0
        self._active_months = 0
        self._expected_cost = 0.0
        self._city_cum = list(_cumulative(c.weight for c in CITIES))
        self._cities_by_state: dict[str, list[_City]] = {}
        for city in CITIES:
            self._cities_by_state.setdefault(city.state, []).append(city)
        self._pools(seed)

    # ------------------------------------------------------------ pools

    def _pools(self, seed: int) -> None:
        fake = Faker("pt_BR")
        fake.seed_instance(seed)
        self.male = _unique(fake.first_name_male() for _ in range(2000))
        self.female = _unique(fake.first_name_female() for _ in range(2000))
        self.last = _unique(n for n in (fake.last_name() for _ in range(3000)) if " " not in n)
        rng = self.rng
        streets: list[str] = []
        for _ in range(2000):
            kind = rng.choice(_STREET_KINDS)
            if rng.random() < 0.35:
                streets.append(f"{kind} {rng.choice(_STREET_NAMES)}")
            else:
                male = rng.random() < 0.7
                first = rng.choice(self.male if male else self.female)
                title = rng.choice(_HONORIFICS_M if male else _HONORIFICS_F)
                streets.append(f"{kind} {title}{first} {rng.choice(self.last)}")
        self.streets = _unique(streets)

    # ------------------------------------------------------------ people bits

    def cpf(self) -> str:
        """A new valid CPF, never repeated in this run (affine bijection on 9 digits)."""
        self.cpf_count += 1
        base = (self.cpf_count * 387_420_489 + self.cpf_offset) % 10**9
        digits = f"{base:09d}"
        if len(set(digits)) == 1:  # 111.111.111-11 and friends are invalid
            digits = f"{(base + 1) % 10**9:09d}"
        return cpf_with_check_digits(digits)

    def person_name(self, sex: str, surname: str | None = None) -> str:
        rng = self.rng
        first = rng.choice(self.male if sex == "M" else self.female)
        parts = [first]
        if rng.random() < 0.25:
            parts.append(rng.choice(self.male if sex == "M" else self.female))
        if rng.random() < 0.6:
            parts.append(rng.choice(self.last))
        parts.append(surname or rng.choice(self.last))
        return " ".join(parts)

    def email(self, name: str) -> str:
        rng = self.rng
        words = [_slug(p) for p in name.split()]
        user = f"{words[0]}.{words[-1]}"
        if rng.random() < 0.6:
            user += str(rng.randint(1, 999))
        return f"{user}@{rng.choice(_MAIL_DOMAINS)}"

    def mobile(self, city: _City) -> str:
        return f"{city.ddd}9{self.rng.randint(6000, 9999)}{self.rng.randrange(10000):04d}"

    def landline(self, city: _City) -> str:
        return f"{city.ddd}{self.rng.randint(2000, 3999)}{self.rng.randrange(10000):04d}"

    def pick_city(self) -> _City:
        x = self.rng.random() * self._city_cum[-1]
        return CITIES[bisect.bisect_right(self._city_cum, x)]

    def address(self, city: _City) -> dict[str, Any]:
        rng = self.rng
        lo, hi = city.cep_range
        complement = None
        if rng.random() < 0.35:
            complement = f"Apto {rng.randint(1, 24)}{rng.randint(1, 4):02d}"
        return {
            "cep": f"{rng.randint(lo, hi):05d}{rng.randrange(1000):03d}",
            "street": rng.choice(self.streets),
            "number": str(rng.randint(1, 3500)),
            "complement": complement,
            "neighbourhood": rng.choice(city.neighbourhoods),
        }

    def bcrypt_hash(self) -> str:
        # A salt drawn from the seed keeps the run reproducible; the last character
        # carries only 2 significant bits in bcrypt's encoding.
        alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        salt = "".join(self.rng.choice(alphabet) for _ in range(21)) + self.rng.choice(".Oeu")
        prefix = f"$2b${BCRYPT_COST:02d}$".encode()
        return bcrypt.hashpw(DEMO_PASSWORD.encode(), prefix + salt.encode()).decode()

    # ------------------------------------------------------------ run

    def run(self) -> None:
        self.password_hash = self.bcrypt_hash()
        self.progress("Operadora, planos e tabelas de preço")
        self.operator()
        self.plans()
        self.progress(f"Empresas: {self.n_companies}")
        self.companies()
        self.users()
        self.progress("Rede credenciada")
        self.providers()
        self.distribute()
        self.contract_prices()
        done = 0
        next_report = 0
        for info in self.company_infos:
            records = self.beneficiaries_of(info)
            premium, covered = self.premium_of(info, records)
            self.payment_plan(info, covered)
            self.utilization_of(info, records, premium)
            self.requests_of(info)
            done += len(records)
            if done >= next_report or info is self.company_infos[-1]:
                self.progress(f"Beneficiários: {done}/{self.n_beneficiaries}")
                next_report = done + max(10_000, self.n_beneficiaries // 20)
        self.recent_logins()
        self.counters()
        self.w.flush()

    # ------------------------------------------------------------ operator and plans

    def operator(self) -> None:
        rng = self.rng
        self.operator_cnpj = cnpj_with_check_digits(f"{rng.randint(10**7, 10**8 - 1)}0001")
        self.operator_id = self.w.next_id("operator")
        self.w.add(
            "operator",
            {
                "id": self.operator_id,
                "name": OPERATOR_NAME,
                "ans_registration": ANS_REGISTRATION,
                "cnpj": self.operator_cnpj,
                "bank_code": "001",
                "pix_key": self.operator_cnpj,
                "city": "São Paulo",
                "card_prefix": CARD_PREFIX,
                "protocol_template": "{ans}{date:%Y%m%d}{seq:06d}",
                "protocol_deadline_days": 7,
                **BANK_AGREEMENT,
            },
        )

    def plans(self) -> None:
        """The plans and the operator's reference tables (no contract): yearly tables
        from May 1, the starting point of every contract's own tables."""
        today = self.today
        may = date(today.year, 5, 1)
        current_from = may if today >= may else date(today.year - 1, 5, 1)
        backs = len(ADJUSTMENTS)
        # (valid_from, valid_to, adjustments back from the current table), oldest first
        self.periods = [
            (
                date(current_from.year - back, 5, 1),
                date(current_from.year - back + 1, 4, 30) if back else None,
                back,
            )
            for back in range(backs, -1, -1)
        ]
        # plan id -> [(valid_from, cents by band)] of the reference tables, oldest first
        self.reference: dict[int, list[tuple[date, list[int]]]] = {}
        self.plan_kind: dict[int, str] = {}
        self.expected_cost: dict[tuple[int, bool], float] = {}
        self.catalog: dict[tuple[int, bool], tuple[list[float], list[int]]] = {}
        self.plan_ids: list[int] = []
        for code, name, ans, coverage, band1 in PLANS:
            plan_id = self.w.next_id("plan")
            self.plan_ids.append(plan_id)
            kind = "single" if code == SINGLE_PRICE_PLAN else "bands"
            self.plan_kind[plan_id] = kind
            self.w.add(
                "plan",
                {
                    "id": plan_id,
                    "operator_id": self.operator_id,
                    "code": code,
                    "name": name,
                    "ans_registration": ans,
                    "segment": "Odontológico",
                    "coverage_groups": list(coverage),
                    "general_conditions": GENERAL_CONDITIONS.format(
                        name=name, ans=ans, coverage=", ".join(coverage)
                    ),
                },
            )
            tables = []
            for valid_from, valid_to, back in self.periods:
                cents = price_table_cents(Decimal(band1), back)
                if kind == "single":
                    cents = [cents[SINGLE_PRICE_BAND - 1]]
                tables.append((valid_from, cents))
                self.price_table(plan_id, None, kind, valid_from, valid_to, cents)
            self.reference[plan_id] = tables
            for child in (False, True):
                indices = [
                    i
                    for i, p in enumerate(PROCEDURES)
                    if (p[2] in coverage or p[2] == "Diagnóstico")
                    and p[5] != ("a" if child else "c")
                ]
                cum = list(_cumulative(PROCEDURES[i][4] for i in indices))
                self.catalog[(plan_id, child)] = (cum, indices)
                self.expected_cost[(plan_id, child)] = (
                    sum(PROCEDURES[i][4] * float(PROCEDURES[i][3]) for i in indices) / cum[-1]
                )

    def price_table(
        self,
        plan_id: int,
        contracted_plan_id: int | None,
        kind: str,
        valid_from: date,
        valid_to: date | None,
        cents: Sequence[int],
        *,
        pct: Decimal | None = None,
        pooled: bool = False,
    ) -> None:
        table_id = self.w.next_id("price_table")
        self.w.add(
            "price_table",
            {
                "id": table_id,
                "plan_id": plan_id,
                "contracted_plan_id": contracted_plan_id,
                "kind": kind,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "readjustment_pct": pct,
                "pooled": pooled,
            },
        )
        for (band, lo, hi), price in zip(band_rows(kind), cents, strict=True):
            self.w.add(
                "price_band",
                {
                    "id": self.w.next_id("price_band"),
                    "price_table_id": table_id,
                    "band": band,
                    "min_age": lo,
                    "max_age": hi,
                    "price": _money(price),
                },
            )

    def contract_prices(self) -> None:
        """Each contracted plan's own tables (what billing charges): the reference table
        in force on the last anniversary before the invoiced window, at a negotiated
        factor, then readjusted on every anniversary month (the contract's start month):
        by the contract's own percentage, or by the pool's percentage of the year when
        the contract has fewer than 30 lives (RN 565/2022)."""
        rng = random.Random(f"{self.seed}-readjustments")
        first_year = self.window_start.year - 1
        self.pool_pct = {
            year: Decimal(rng.randint(700, 1300)).scaleb(-2)
            for year in range(first_year, self.today.year + 1)
        }
        # (company id, plan id) -> [(valid_from, kind, cents by band)], oldest first
        self.tables: dict[tuple[int, int], list[tuple[date, str, list[int]]]] = {}
        for info in self.company_infos:
            pooled = in_pool(info.target)
            month = info.contract_start.month
            year = self.window_start.year - (month > self.window_start.month)
            starts = [max(date(year, month, 1), info.contract_start)]
            while (nxt := date(starts[-1].year + 1, month, 1)) <= self.today:
                starts.append(nxt)
            pcts = [None] + [
                self.pool_pct[s.year] if pooled else Decimal(rng.randint(450, 1450)).scaleb(-2)
                for s in starts[1:]
            ]
            factor = Decimal(rng.randint(9200, 10500)).scaleb(-4)
            for plan_id in info.plan_ids:
                kind = self.plan_kind[plan_id]
                base = [c for valid_from, c in self.reference[plan_id] if valid_from <= starts[0]]
                cents = (base or [self.reference[plan_id][0][1]])[-1]
                prices = [readjusted_price(_money(c), (factor - 1) * 100) for c in cents]
                history: list[tuple[date, str, list[int]]] = []
                for k, start in enumerate(starts):
                    pct = pcts[k]
                    if pct is not None:
                        prices = [readjusted_price(p, pct) for p in prices]
                    valid_to = starts[k + 1] - timedelta(days=1) if k + 1 < len(starts) else None
                    table_cents = [_cents(p) for p in prices]
                    self.price_table(
                        plan_id,
                        info.contracts[plan_id],
                        kind,
                        start,
                        valid_to,
                        table_cents,
                        pct=pct,
                        pooled=pooled and pct is not None,
                    )
                    history.append((start, kind, table_cents))
                self.tables[(info.id, plan_id)] = history

    # ------------------------------------------------------------ companies

    def companies(self) -> None:
        rng = self.rng
        groups = ("Grupo Horizonte", "Grupo Atlântico", "Grupo Ipê")
        group_ids = []
        for name in groups:
            gid = self.w.next_id("economic_group")
            group_ids.append(gid)
            self.w.add("economic_group", {"id": gid, "name": name})
        group_of = {1: 0, 2: 0, 3: 0, 5: 1, 6: 1, 7: 2, 8: 2}
        fixed = {
            1: ("Horizonte Logística Ltda.", "Horizonte Log", "São Paulo"),
            2: ("Horizonte Transportes Ltda.", "Horizonte Transportes", "Campinas"),
            3: ("Horizonte Armazéns Gerais Ltda.", "Horizonte Armazéns", "Guarulhos"),
            4: ("Padaria e Confeitaria Pão Dourado Ltda.", "Pão Dourado", "São Paulo"),
            5: ("Atlântico Tecnologia S.A.", "Atlântico Tech", "Rio de Janeiro"),
            6: ("Atlântico Serviços de TI Ltda.", "Atlântico Serviços", "Niterói"),
            7: ("", "Fazenda Ipê Amarelo", "Ribeirão Preto"),
            8: ("Ipê Agroindustrial Ltda.", "Ipê Agro", "Ribeirão Preto"),
        }
        by_name = {c.name: c for c in CITIES}
        used_docs: set[str] = set()
        self.company_infos: list[_CompanyInfo] = []
        for index in range(1, self.n_companies + 1):
            code = str(10000 + index)
            company_id = self.w.next_id("company")
            if index in fixed:
                legal, trade, city_name = fixed[index]
                city = by_name[city_name]
            else:
                surname = rng.choice(self.last)
                sector = rng.choice(_SECTORS)
                suffix = rng.choice(("Ltda.", "Ltda.", "S.A.", "Eireli", "Ltda. ME"))
                legal = f"{surname} {sector} {suffix}"
                trade = f"{surname} {sector}"
                city = self.pick_city()
            document_type = "CNPJ"
            if index == 7:
                owner_sex = "M"
                owner = self.person_name(owner_sex)
                legal = f"{owner} ({trade})"
                document = caepf_with_check_digits(f"{self.cpf()[:9]}001")
                document_type = "CAEPF"
            elif index == 5:
                while True:
                    root = "".join(
                        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8)
                    )
                    if sum(ch.isalpha() for ch in root) >= 3:
                        break
                document = cnpj_with_check_digits(f"{root}0001")
            else:
                document = cnpj_with_check_digits(f"{rng.randint(10**7, 10**8 - 1)}0001")
            while document in used_docs:
                document = cnpj_with_check_digits(f"{rng.randint(10**7, 10**8 - 1)}0001")
            used_docs.add(document)
            years = rng.randint(3, 9) if index != 1 else 6
            contract_start = date(self.today.year - years, rng.randint(1, 12), 1)
            due_day = 10 if index == 1 else rng.choice((5, 10, 10, 15, 20))
            parents_allowed = index == 1 or rng.random() < 0.4
            contact_sex = rng.choice("MF")
            contact = self.person_name(contact_sex)
            domain = _slug(trade)[:24] + ".com.br"
            contact_email = (
                f"rh@{domain}"
                if index == 1
                else (f"{_slug(contact.split()[0])}.{_slug(contact.split()[-1])}@{domain}")
            )
            self.w.add(
                "company",
                {
                    "id": company_id,
                    "operator_id": self.operator_id,
                    "group_id": group_ids[group_of[index]] if index in group_of else None,
                    "code": code,
                    "document": document,
                    "document_type": document_type,
                    "name": legal,
                    "trade_name": trade,
                    **self.address(city),
                    "city": city.name,
                    "state": city.state,
                    "contact_name": contact,
                    "contact_email": contact_email,
                    "phone": self.landline(city),
                    "contract_start": contract_start,
                    "status": "active",
                    "cutoff_day": 20,
                    "due_day": due_day,
                    "retroactive_months": 3,
                    "fine_pct": Decimal("2.00"),
                    "monthly_interest_pct": Decimal("1.00"),
                    "overdue_update_limit_days": 59,
                    "dependents_follow_holder": True,
                    "billing_start": self.billing_start,
                    "band_change": "next_month",
                    "waiting_periods": None,
                    "eligibility": {
                        "3": {"allowed": True, "max_age": None, "student_max_age": None},
                        "4": {"allowed": True, "max_age": 21, "student_max_age": 24},
                        "6": {"allowed": True, "max_age": 21, "student_max_age": 24},
                        "8": {"allowed": parents_allowed, "max_age": None, "student_max_age": None},
                        "10": {"allowed": False, "max_age": None, "student_max_age": None},
                    },
                },
            )
            if index == 1:
                chosen = self.plan_ids[:3]  # Premium not contracted: a refusal to demo
            else:
                chosen = sorted(rng.sample(self.plan_ids, rng.choice((2, 2, 3))))
            weights = [{1: 5.0, 2: 3.0, 3: 1.5, 4: 1.0}[self.plan_ids.index(p) + 1] for p in chosen]
            contracts = {}
            for plan_id in chosen:
                contracts[plan_id] = self.w.next_id("contracted_plan")
                self.w.add(
                    "contracted_plan",
                    {
                        "id": contracts[plan_id],
                        "company_id": company_id,
                        "plan_id": plan_id,
                        "start_date": contract_start,
                        "end_date": None,
                    },
                )
            self.company_infos.append(
                _CompanyInfo(
                    id=company_id,
                    code=code,
                    index=index,
                    city=city,
                    contract_start=contract_start,
                    due_day=due_day,
                    cutoff_day=20,
                    plan_ids=chosen,
                    plan_weights=weights,
                    parents_allowed=parents_allowed,
                    actor_ids=[],
                    fine_pct=Decimal("2.00"),
                    interest_pct=Decimal("1.00"),
                    loss_ratio=0.72 if index == 1 else rng.uniform(0.4, 0.9),
                    contracts=contracts,
                )
            )
            self._contacts[company_id] = (contact, contact_email, contract_start)
            self.cost_centres(self.company_infos[-1])

    def cost_centres(self, info: _CompanyInfo) -> None:
        """Three or four cost centres per company, without drawing from the random stream
        (so every other demo row stays as it was before cost centres existed)."""
        for code, name in COST_CENTRES[: 3 + info.index % 2]:
            cid = self.w.next_id("cost_centre")
            info.cost_centres.append(cid)
            self.w.add(
                "cost_centre",
                {"id": cid, "company_id": info.id, "code": code, "name": name, "active": True},
            )

    # ------------------------------------------------------------ users

    def users(self) -> None:
        rng = self.rng
        created = datetime(self.today.year - 6, 1, 15, 13, 0, tzinfo=UTC)
        last_login = _at(self.yesterday, rng)

        def user(
            code: str,
            name: str,
            email: str,
            role: str,
            permissions: list[str],
            company_id: int | None,
            status: str = "active",
            at: datetime = created,
        ) -> int:
            uid = self.w.next_id("app_user")
            self.w.add(
                "app_user",
                {
                    "id": uid,
                    "user_code": code,
                    "name": name,
                    "cpf": self.cpf(),
                    "email": email,
                    "role": role,
                    "permissions": sorted(permissions),
                    "company_id": company_id,
                    "status": status,
                    "password_hash": self.password_hash if status == "active" else None,
                    "failed_attempts": 0,
                    "locked_until": None,
                    "created_at": at,
                    "last_login_at": last_login if status == "active" else None,
                },
            )
            return uid

        self.manager_id = user(
            "900001",
            "Mariana Albuquerque Prado",
            "mariana.prado@sorrisoodonto.com.br",
            "account_manager",
            ALL_PERMISSIONS,
            None,
        )
        self.max_user_code = 100003
        for info in self.company_infos:
            contact, contact_email, start = self._contacts[info.id]
            at = datetime(start.year, start.month, start.day, 14, 0, tzinfo=UTC)
            self.w.add(
                "account_manager_company", {"user_id": self.manager_id, "company_id": info.id}
            )
            if info.index == 1:
                master = user(
                    "100001", contact, contact_email, "master", ALL_PERMISSIONS, info.id, at=at
                )
                helper = user(
                    "100002",
                    "Rafael Nogueira Campos",
                    "rafael.campos@horizontelog.com.br",
                    "user",
                    ["movements", "reports"],
                    info.id,
                    at=at + timedelta(days=40),
                )
                pending_at = _at(self.today - timedelta(days=3), rng)
                pending = user(
                    "100003",
                    "Juliana Teixeira Ramos",
                    "juliana.ramos@horizontelog.com.br",
                    "user",
                    ["finance", "protocols"],
                    info.id,
                    status="pending",
                    at=pending_at,
                )
                self.invitation(info, master, contact, pending, pending_at)
                info.actor_ids = [master, master, helper]
            elif info.index == 4:
                info.actor_ids = [self.manager_id]  # no users: first access still to do
            else:
                code = 100010 + info.index
                self.max_user_code = max(self.max_user_code, code)
                info.actor_ids = [
                    user(
                        str(code), contact, contact_email, "master", ALL_PERMISSIONS, info.id, at=at
                    )
                ]

    # ------------------------------------------------------------ providers

    def providers(self) -> None:
        rng = self.rng
        self.providers_by_state: dict[str, list[int]] = {}
        self.provider_ids: list[int] = []
        for _ in range(300):
            city = self.pick_city()
            pid = self.w.next_id("provider")
            neighbourhood = rng.choice(city.neighbourhoods)
            if rng.random() < 0.7:
                sex = rng.choice("MF")
                name = ("Dr. " if sex == "M" else "Dra. ") + self.person_name(sex)
                kind = "dentist"
                specialties = ["Clínica geral"] if rng.random() < 0.6 else []
                specialties += rng.sample(SPECIALTIES[1:], rng.randint(1, 2))
            else:
                kind = "clinic"
                surname = rng.choice(self.last)
                name = rng.choice(
                    (
                        f"Clínica Odontológica {surname}",
                        f"OdontoCenter {neighbourhood}",
                        f"Instituto {surname} de Odontologia",
                        f"Sorriso Vivo {neighbourhood}",
                        f"Clínica {surname} & {rng.choice(self.last)} Odontologia",
                    )
                )
                specialties = ["Clínica geral", *rng.sample(SPECIALTIES[1:], rng.randint(2, 5))]
            address = self.address(city)
            self.w.add(
                "provider",
                {
                    "id": pid,
                    "name": name,
                    "kind": kind,
                    "cro": str(rng.randint(1000, 129999)),
                    "cro_state": city.state,
                    "specialties": specialties,
                    "phone": self.landline(city),
                    "street": address["street"] + ", " + address["number"],
                    "neighbourhood": neighbourhood,
                    "city": city.name,
                    "state": city.state,
                    "cep": address["cep"],
                    "latitude": round(city.lat + rng.gauss(0, 0.025), 6),
                    "longitude": round(city.lon + rng.gauss(0, 0.025), 6),
                },
            )
            self.provider_ids.append(pid)
            self.providers_by_state.setdefault(city.state, []).append(pid)

    # ------------------------------------------------------------ beneficiaries

    def distribute(self) -> None:
        """Skewed company sizes; 10001 gets about 20% (at least 300) with few companies."""
        rng = self.rng
        total = self.n_beneficiaries
        infos = self.company_infos
        weights = [rng.lognormvariate(0, 1.1) for _ in infos]
        floor = 5 if total >= 5 * len(infos) else 0
        first = 0
        if infos:
            share = (
                round(total * 0.2) if len(infos) <= 20 else round(total * weights[0] / sum(weights))
            )
            first = min(max(300, share), total - floor * (len(infos) - 1))
            first = max(first, 0)
        rest = total - first - floor * (len(infos) - 1)
        others = weights[1:]
        raw = [rest * w / sum(others) for w in others] if others else []
        counts = [math.floor(x) for x in raw]
        leftover = rest - sum(counts)
        order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
        for i in order[:leftover]:
            counts[i] += 1
        targets = [first] + [c + floor for c in counts]
        if len(infos) == 1:
            targets = [total]
        for info, n in zip(infos, targets, strict=True):
            info.target = n

    def beneficiaries_of(self, info: _CompanyInfo) -> list[_Record]:
        rng = self.rng
        records: list[_Record] = []
        self._movement_protocols = rng.randint(1, 4)
        remaining = info.target
        while remaining > 0:
            family = self.family(info, remaining)
            remaining -= len(family)
            for row in family:
                records.append(
                    (
                        row["id"],
                        row["plan_id"],
                        row["birth_date"],
                        row["effective_date"],
                        row["exclusion_date"],
                        row["state"],
                        age_on(row["birth_date"], self.today) < 13,
                    )
                )
        return records

    def family(self, info: _CompanyInfo, limit: int) -> list[dict[str, Any]]:
        """A holder and dependents (at most `limit` people), written as they are made."""
        rng = self.rng
        today = self.today
        start = info.contract_start
        span = (self.yesterday - start).days
        city = info.city
        if rng.random() > 0.75:
            same_state = self._cities_by_state[city.state]
            city = rng.choice(same_state) if rng.random() < 0.6 else self.pick_city()
        address = self.address(city)
        plan_id = rng.choices(info.plan_ids, weights=info.plan_weights)[0]
        holder_age = int(rng.triangular(18, 64, 33))
        holder_sex = rng.choice("MF")
        surname = rng.choice(self.last)
        holder_name = self.person_name(holder_sex, surname)
        holder_birth = self._birth(holder_age)
        if rng.random() < 0.3:
            effective = start
            admission = start - timedelta(days=rng.randint(0, 3000))
        else:
            effective = start + timedelta(days=rng.randint(0, span))
            admission = effective - timedelta(days=rng.randint(0, 30))
        adult_from = date(holder_birth.year + 18, holder_birth.month, 1)
        if admission < adult_from:
            admission = adult_from
        if effective < admission:
            effective = admission
        if effective > self.yesterday:
            effective = self.yesterday
        tenure_years = (today - effective).days / 365.25
        exclusion: date | None = None
        reason: str | None = None
        if rng.random() < min(0.2, 0.005 + 0.02 * tenure_years):
            first_day = effective + timedelta(days=30)
            if first_day < self.yesterday:
                exclusion = first_day + timedelta(
                    days=rng.randint(0, (self.yesterday - first_day).days)
                )
                reason = rng.choices(HOLDER_EXCLUSION_REASONS, HOLDER_EXCLUSION_WEIGHTS)[0]
        end = exclusion or self.yesterday
        has_spouse = rng.random() < (0.25 if holder_age < 26 else 0.6)
        marital = rng.choice(MARITAL_COUPLE if has_spouse else MARITAL_SINGLE)
        if holder_age < 23 and not has_spouse:
            marital = "Solteiro(a)"
        mother_of_holder = self.person_name("F")
        members: list[dict[str, Any]] = []
        holder = self.member(
            info,
            plan_id,
            None,
            1,
            holder_name,
            holder_sex,
            holder_birth,
            mother_of_holder,
            marital,
            address,
            city,
            effective,
            admission,
            exclusion,
            reason,
        )
        members.append(holder)
        spouse_name = None
        spouse_sex = "F" if holder_sex == "M" else "M"
        if rng.random() < 0.03:
            spouse_sex = holder_sex
        if has_spouse and len(members) < limit:
            spouse_age = max(18, min(85, holder_age + int(rng.gauss(0, 4))))
            spouse_name = self.person_name(spouse_sex)
            spouse_birth = self._birth(spouse_age)
            self._append(
                members,
                self.dependent(
                    info,
                    holder,
                    3,
                    spouse_name,
                    spouse_sex,
                    spouse_birth,
                    self.person_name("F"),
                    marital,
                    address,
                    city,
                    effective,
                    end,
                    exclusion,
                ),
            )
        mother = (
            holder_name
            if holder_sex == "F"
            else (spouse_name if spouse_name and spouse_sex == "F" else self.person_name("F"))
        )
        max_child_age = min(24, holder_age - 18)
        if max_child_age >= 0:
            n_children = rng.choices((0, 1, 2, 3), (35, 30, 25, 10))[0]
            for _ in range(n_children):
                if len(members) >= limit:
                    break
                child_sex = rng.choice("MF")
                birth = self._birth(rng.randint(0, max_child_age))
                self._append(
                    members,
                    self.dependent(
                        info,
                        holder,
                        4,
                        self.person_name(child_sex, surname),
                        child_sex,
                        birth,
                        mother,
                        "Solteiro(a)",
                        address,
                        city,
                        effective,
                        end,
                        exclusion,
                    ),
                )
        if has_spouse and rng.random() < 0.06 and len(members) < limit:
            child_sex = rng.choice("MF")
            birth = self._birth(rng.randint(1, 20))
            self._append(
                members,
                self.dependent(
                    info,
                    holder,
                    6,
                    self.person_name(child_sex),
                    child_sex,
                    birth,
                    spouse_name or self.person_name("F"),
                    "Solteiro(a)",
                    address,
                    city,
                    effective,
                    end,
                    exclusion,
                ),
            )
        if (
            info.parents_allowed
            and rng.random() < 0.03
            and holder_age + 22 <= 90
            and len(members) < limit
        ):
            parent_sex = rng.choice("MF")
            parent_age = min(92, holder_age + rng.randint(22, 35))
            self._append(
                members,
                self.dependent(
                    info,
                    holder,
                    8,
                    mother_of_holder if parent_sex == "F" else self.person_name("M", surname),
                    parent_sex,
                    self._birth(parent_age),
                    self.person_name("F"),
                    rng.choice(MARITAL_COUPLE + ("Viúvo(a)",)),
                    address,
                    city,
                    effective,
                    end,
                    exclusion,
                ),
            )
        change = self.plan_change(info, holder)
        for row in members:
            self.finish(info, row, change, holder_admission=admission)
        return members

    def plan_change(
        self, info: _CompanyInfo, holder: dict[str, Any]
    ) -> tuple[date, int, datetime] | None:
        """A few families still covered change plan on the first day of an invoiced month
        (date, new plan, when the operator was told): half told some days before, half
        some days after (a back-dated change, caught up as plan change differences)."""
        rng = self.change_rng
        if (
            len(info.plan_ids) < 2
            or holder["exclusion_date"] is not None
            or rng.random() >= PLAN_CHANGE_SHARE
        ):
            return None
        first = max(_month_index(holder["effective_date"]) + 2, self.bill_first_idx + 1)
        if first > self.cur_idx or _month_start(self.cur_idx) > self.yesterday:
            return None
        day = _month_start(rng.randint(first, self.cur_idx))
        if rng.random() < 0.5:
            told = min(day + timedelta(days=rng.randint(3, 20)), self.yesterday)
        else:
            told = day - timedelta(days=rng.randint(1, 10))
        new_plan = rng.choice([p for p in info.plan_ids if p != holder["plan_id"]])
        return day, new_plan, _at(told, rng)

    @staticmethod
    def _append(members: list[dict[str, Any]], member: dict[str, Any]) -> None:
        if member:
            members.append(member)

    def _birth(self, age: int) -> date:
        days = int(age * 365.25) + self.rng.randint(1, 364)
        birth = self.today - timedelta(days=days)
        return birth

    def dependent(
        self,
        info: _CompanyInfo,
        holder: dict[str, Any],
        relationship: int,
        name: str,
        sex: str,
        birth: date,
        mother: str,
        marital: str,
        address: dict[str, Any],
        city: _City,
        holder_effective: date,
        end: date,
        holder_exclusion: date | None,
    ) -> dict[str, Any]:
        rng = self.rng
        low = max(holder_effective, birth)
        if low > end:
            return {}
        effective = (
            low if rng.random() < 0.7 else low + timedelta(days=rng.randint(0, (end - low).days))
        )
        if holder_exclusion is not None and effective >= holder_exclusion:
            # The exclusion date is the first day not covered: start the day before.
            effective = holder_exclusion - timedelta(days=1)
            if effective < low:
                return {}
        exclusion = holder_exclusion
        reason = None
        if holder_exclusion is not None:
            reason = holder["exclusion_reason"]
            if reason == "obito":
                reason = "outros"
        elif rng.random() < 0.03 and effective + timedelta(days=30) < self.yesterday:
            first_day = effective + timedelta(days=30)
            exclusion = first_day + timedelta(
                days=rng.randint(0, (self.yesterday - first_day).days)
            )
            reason = rng.choice(("pedido", "outros"))
        if relationship in (4, 6) and exclusion is None:
            age = age_on(birth, self.today)
            if age > 24:
                return {}
        return self.member(
            info,
            holder["plan_id"],
            holder["id"],
            relationship,
            name,
            sex,
            birth,
            mother,
            marital,
            address,
            city,
            effective,
            None,
            exclusion,
            reason,
        )

    def member(
        self,
        info: _CompanyInfo,
        plan_id: int,
        holder_id: int | None,
        relationship: int,
        name: str,
        sex: str,
        birth: date,
        mother: str,
        marital: str,
        address: dict[str, Any],
        city: _City,
        effective: date,
        admission: date | None,
        exclusion: date | None,
        reason: str | None,
    ) -> dict[str, Any]:
        rng = self.rng
        bid = self.w.next_id("beneficiary")
        age = age_on(birth, self.today)
        adult = age >= 18
        has_cpf = relationship == 1 or adult or rng.random() < 0.8
        return {
            "id": bid,
            "company_id": info.id,
            "plan_id": plan_id,
            "card_number": card_number(CARD_PREFIX, bid),
            "holder_id": holder_id,
            "relationship_code": relationship,
            "name": name,
            "cpf": self.cpf() if has_cpf else None,
            "cns": provisional_cns(rng) if rng.random() < 0.35 else None,
            "birth_date": birth,
            "sex": sex,
            "mother_name": mother,
            "marital_status": marital if adult else "Solteiro(a)",
            "is_student": relationship in (4, 6) and age > 21,
            "email": self.email(name)
            if (relationship == 1 and rng.random() < 0.9)
            or (relationship != 1 and adult and rng.random() < 0.4)
            else None,
            "phone": self.mobile(city) if adult and rng.random() < 0.9 else None,
            **address,
            "municipality": city.name,
            "municipality_ibge": city.ibge,
            "state": city.state,
            "admission_date": admission,
            "effective_date": effective,
            "status": "inactive" if exclusion else "active",
            "exclusion_date": exclusion,
            "exclusion_reason": reason,
            "stay_until": None,
            # Holders only (dependents follow theirs), spread unevenly by id.
            "cost_centre_id": (
                info.cost_centres[min(COST_CENTRE_SPREAD[bid % 7], len(info.cost_centres) - 1)]
                if relationship == 1 and info.cost_centres
                else None
            ),
        }

    def finish(
        self,
        info: _CompanyInfo,
        row: dict[str, Any],
        change: tuple[date, int, datetime] | None = None,
        *,
        holder_admission: date | None,
    ) -> None:
        """Timestamps, waiting periods, movements, coverage periods and (a few) movement
        protocols of a new beneficiary; `change` is the family's plan change, if any
        (`plan_change`)."""
        rng = self.rng
        effective = row["effective_date"]
        received = max(
            effective - timedelta(days=rng.randint(0, 7)), info.contract_start, row["birth_date"]
        )
        created = _at(received, rng)
        # Waiting periods as the inclusion computed them (the contract's default days;
        # the participants counted as the company's demo size): RN 195 art. 6 exempts
        # inclusions within 30 days of the (holder's) admission or of the contract start.
        dependent = row["relationship_code"] != 1
        row["waiting_periods"] = waiting_periods(
            contract_days=None,
            effective=effective,
            requested=received,
            participants=info.target,
            contract_start=info.contract_start,
            admission_date=holder_admission if dependent else row["admission_date"],
            relationship=row["relationship_code"],
            birth_date=row["birth_date"],
            holder_admission=dependent,
        ).as_json()
        exclusion = row["exclusion_date"]
        # No retroactive exclusion: it takes effect on the day the operator is told.
        excluded_at = _at(exclusion, rng) if exclusion is not None else created
        if excluded_at < created:
            excluded_at = created
        old_plan = row["plan_id"]
        split: tuple[date, datetime] | None = None
        if change is not None:
            day, new_plan, told = change
            if effective >= day:
                row["plan_id"] = new_plan  # came in after the change: on the new plan
            elif exclusion is None or exclusion > max(day, told.date()):
                row["plan_id"] = new_plan  # active when the change came: it follows
                split = (day, told)
        updated = max(excluded_at, split[1]) if split else excluded_at
        self.w.add("beneficiary", {**row, "created_at": created, "updated_at": updated})
        if row["status"] == "active":
            self.active += 1
        channel = "batch" if rng.random() < 0.3 else "individual"
        inclusion_id = None
        if effective >= self.today - timedelta(days=365):
            inclusion_id = self.movement(info, row, "inclusion", channel, effective, created)
        # Coverage: a regular period from the effective date to the exclusion date (the
        # first day not covered), on the company and the plan; a plan change ends it on its
        # date and opens one on the new plan. Written as the billing runs would have
        # learnt it (`bill`).
        end_at = excluded_at if exclusion is not None else None
        first = {
            "id": self.w.next_id("coverage_period"),
            "beneficiary_id": row["id"],
            "company_id": info.id,
            "plan_id": old_plan if split else row["plan_id"],
            "start_date": effective,
            "end_date": exclusion,
            "kind": "regular",
            "movement_id": inclusion_id,
        }
        if split is None:
            self.cover(first, created, end_at)
        else:
            day, told = split
            back_dated = told.date() > day
            change_id = self.movement(
                info,
                row,
                "plan_change",
                "retroactive" if back_dated else "individual",
                day,
                told,
                rng=self.change_rng,
                extra={
                    "old_plan_id": old_plan,
                    "new_plan_id": row["plan_id"],
                    "is_retroactive": back_dated,
                    "before": {"plan_id": old_plan},
                    "after": {"plan_id": row["plan_id"]},
                },
            )
            self.cover({**first, "end_date": day}, created, told)
            self.cover(
                {
                    **first,
                    "id": self.w.next_id("coverage_period"),
                    "plan_id": row["plan_id"],
                    "start_date": day,
                    "movement_id": change_id,
                },
                told,
                end_at,
            )
        if exclusion is not None:
            self.movement(info, row, "exclusion", "individual", exclusion, excluded_at)

    def cover(
        self, period: dict[str, Any], known_at: datetime, end_known_at: datetime | None
    ) -> None:
        """Write a coverage period now, or keep it (or its end) for the first billing run
        that would have known it (`learn`)."""
        if known_at >= self.first_run_at:
            self.late_periods.append((known_at, period, end_known_at))
        elif end_known_at is not None and end_known_at >= self.first_run_at:
            self.w.add("coverage_period", {**period, "end_date": None})
            self.late_ends.append((end_known_at, period["id"], period["end_date"]))
        else:
            self.w.add("coverage_period", period)

    def movement(
        self,
        info: _CompanyInfo,
        row: dict[str, Any],
        kind: str,
        channel: str,
        effective: date,
        received_at: datetime,
        *,
        rng: random.Random | None = None,
        extra: dict[str, Any] | None = None,
    ) -> int:
        """One applied movement (`rng`: the random stream of its kind; only inclusions
        and exclusions get a protocol)."""
        rng = rng or self.rng
        received = received_at.date()
        months_ahead = 1 if received.day <= info.cutoff_day else 2
        billing_month = _month_start(_month_index(received) + months_ahead)
        actor = rng.choice(info.actor_ids)
        protocol_id = None
        if (
            kind in ("inclusion", "exclusion")
            and self._movement_protocols > 0
            and received >= self.today - timedelta(days=30)
        ):
            self._movement_protocols -= 1
            subject = MOVEMENT_SUBJECTS[kind]
            description = f"{row['name']} — carteirinha {format_card_number(row['card_number'])}."
            protocol_id = self.protocol(
                info,
                kind,
                subject,
                description,
                received_at,
                actor,
                answer="Movimentação registrada e aceita.",
                answer_after_hours=0,
            )
        if self._recent(received_at):
            self.audit(
                received_at,
                actor,
                info.id,
                f"movement_{kind}",
                "beneficiary",
                row["id"],
                None,
                {
                    "card_number": row["card_number"],
                    "name": row["name"],
                    "effective_date": effective.isoformat(),
                    "channel": channel,
                },
            )
        movement_id = self.w.next_id("movement")
        self.w.add(
            "movement",
            {
                "id": movement_id,
                "company_id": info.id,
                "beneficiary_id": row["id"],
                "kind": kind,
                "channel": channel,
                "effective_date": effective,
                "received_at": received_at,
                "billing_month": billing_month,
                "is_retroactive": False,
                "actor_user_id": actor,
                "protocol_id": protocol_id,
                "from_company_id": None,
                "old_plan_id": None,
                "new_plan_id": None,
                "reason": row["exclusion_reason"] if kind == "exclusion" else None,
                "before": None,
                "after": None,
                "state": "applied",
                **(extra or {}),
            },
        )
        return movement_id

    # ------------------------------------------------------------ premiums

    def _span(self, rec: _Record) -> tuple[int, int]:
        """Covered month indices [first, end) of a beneficiary inside the 24-month window."""
        _, _, _, effective, exclusion, _, _ = rec
        first = max(_month_index(effective), self.first_idx)
        if exclusion is None:
            end = self.cur_idx + 1
        else:
            end = min(_month_index(exclusion) + (1 if exclusion.day > 1 else 0), self.cur_idx + 1)
        return first, end

    def month_price(self, company_id: int, plan_id: int, birth: date, idx: int) -> int:
        """Cents of month `idx` under the contract's table valid on its first day, for
        the age band of the last day of the month before (the band changes in the month
        after the birthday, the contracts' setting); a single-price table has one."""
        start = _month_start(idx)
        history = self.tables[(company_id, plan_id)]
        _, kind, cents = next(h for h in reversed(history) if h[0] <= start)
        if kind == "single":
            return cents[0]
        on = start - timedelta(days=1)
        return cents[age_band(age_on(birth, on) if birth <= on else 0) - 1]

    def premium_of(self, info: _CompanyInfo, records: list[_Record]) -> tuple[int, list[int]]:
        """What the company pays over the 24 months of the window (cents), which the
        billing run charges month by month; it scales the utilization's costs."""
        total = 0
        covered = [0] * INVOICE_MONTHS  # people covered in each month of the window
        active_months = 0
        expected = 0.0
        for rec in records:
            first, end = self._span(rec)
            if end <= first:
                continue
            active_months += end - first
            expected += (end - first) * self.expected_cost[(rec[1], rec[6])]
            for idx in range(first, end):
                total += self.month_price(info.id, rec[1], rec[2], idx)
                covered[idx - self.first_idx] += 1
        self._active_months = active_months
        self._expected_cost = expected
        return total, covered

    def payment_plan(self, info: _CompanyInfo, covered: list[int]) -> None:
        """How the company pays each month's invoice (issued 10 days before the due day;
        paid up to two months back, a few late; last month's mostly paid, never 10001's;
        the current month's open), drawn with the company and applied by `settle` to the
        invoices the runs issue. The draws are those the demo made when it wrote the
        invoices itself, so the rest of the world (people, protocols, use) is unchanged."""
        rng = self.rng
        plan: dict[int, tuple[datetime, date | None, str | None]] = {}
        for k, people in enumerate(covered):
            if people == 0:
                continue
            idx = self.first_idx + k
            month = _month_start(idx)
            due = date(month.year, month.month, min(info.due_day, _days_in_month(idx)))
            months_ago = self.cur_idx - idx
            if months_ago >= 2:
                paid = True
            elif months_ago == 1:
                paid = info.index != 1 and rng.random() < 0.75
            else:
                paid = False
            paid_on = None
            if paid:
                if rng.random() < 0.05 and months_ago >= 2:
                    paid_on = min(due + timedelta(days=rng.randint(6, 40)), self.yesterday)
                else:
                    paid_on = min(due - timedelta(days=rng.randint(0, 5)), self.yesterday)
            issued_at = _at(min(due - timedelta(days=10), self.yesterday), rng)
            method = None
            if paid_on is not None:
                method = "boleto" if rng.random() < 0.7 else "pix"
            plan[idx] = (issued_at, paid_on, method)
        self.payment_plans[info.id] = plan

    # ------------------------------------------------------------ invoices

    def bill(self, engine: Engine) -> None:
        """The invoices of the invoiced months, oldest first, from the billing run itself
        (as the account manager, over every company), so that they obey the ledger."""
        uow = UnitOfWork(make_session_factory(engine))
        actor = Actor(
            user_id=self.manager_id,
            user_code="900001",
            name="Mariana Albuquerque Prado",
            role=Role.ACCOUNT_MANAGER,
            permissions=frozenset(Permission),
            company_ids=frozenset(info.id for info in self.company_infos),
        )
        months = range(self.bill_first_idx, self.cur_idx + 1)
        for n, idx in enumerate(months, start=1):
            month = _month_start(idx)
            self.learn(None if idx == self.cur_idx else self.issued_at(idx))
            result = billing_run(
                uow=uow,
                actor=actor,
                billing_month=month,
                company_ids=None,
                now=self.issued_at(idx),
            )
            self.invoices += len(result.billed)
            self.invoice_lines += result.lines
            if n == len(months) or n % 6 == 0:
                self.progress(f"Faturas: competência {month:%m/%Y} ({n}/{len(months)})")

    def learn(self, until: datetime | None) -> None:
        """Write the coverage received before `until` (None: all of it) that the
        database does not have yet: the periods of late inclusions, and the end of periods
        excluded since. So a run charges what its day knew; what arrives later (an
        inclusion received after the run of its month, an exclusion after the run of the
        next month) is caught up by the next run: retroactive and credit lines. The last
        run learns everything, so the demo's ledger is complete up to the current month."""
        conn = self.w.conn

        def later(at: datetime) -> bool:
            return until is not None and at >= until

        now_known = [p for p in self.late_periods if not later(p[0])]
        if now_known:
            self.late_periods = [p for p in self.late_periods if later(p[0])]
            rows = []
            for _, period, excluded_at in now_known:
                if excluded_at is not None and later(excluded_at):
                    rows.append({**period, "end_date": None})
                    self.late_ends.append((excluded_at, period["id"], period["end_date"]))
                else:
                    rows.append(period)
            conn.execute(insert(CoveragePeriod.__table__), rows)  # type: ignore[arg-type]
            self.w.counts["coverage_period"] += len(rows)
        ends = [e for e in self.late_ends if not later(e[0])]
        if ends:
            self.late_ends = [e for e in self.late_ends if later(e[0])]
            table = CoveragePeriod.__table__
            conn.execute(
                update(table)  # type: ignore[arg-type]
                .where(table.c.id == bindparam("b_id"))
                .values(end_date=bindparam("b_end")),
                [{"b_id": period_id, "b_end": end} for _, period_id, end in ends],
            )
        conn.commit()

    def issued_at(self, idx: int) -> datetime:
        """When the run of billing month `idx` happens: the 25th of the month before at
        noon in Brasília (10 days before the earliest due day), never after yesterday."""
        before = _month_start(idx - 1)
        day = min(before.replace(day=25), self.yesterday)
        return datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)

    def settle(self) -> None:
        """Each issued invoice gets its company's drawn issue date and payment
        (`payment_plan`): paid ones with their payment (late ones with the contract's fine
        and interest). The runs' audit records older than the recent days go, as every
        older audit record of the demo."""
        conn = self.w.conn
        infos = {info.id: info for info in self.company_infos}
        invoices = conn.execute(
            select(
                Invoice.id,
                Invoice.company_id,
                Invoice.billing_month,
                Invoice.due_date,
                Invoice.amount,
            ).order_by(Invoice.id)
        ).all()
        rows: list[dict[str, Any]] = []
        for invoice_id, company_id, month, due, amount in invoices:
            info = infos[company_id]
            idx = _month_index(month)
            entry: tuple[datetime | None, date | None, str | None] | None
            entry = self.payment_plans[company_id].get(idx)
            if entry is None:  # a month the estimate saw empty: paid on time when old
                entry = (None, due if self.cur_idx - idx >= 2 else None, "boleto")
            issued_at, paid_on, method = entry
            if issued_at is not None:
                rows.append(
                    {
                        "b_id": invoice_id,
                        "b_issued_at": issued_at,
                        "b_status": "paid" if paid_on else "open",
                        "b_paid_on": paid_on,
                    }
                )
            if paid_on is None:
                continue
            payment_amount = amount
            if paid_on > due:
                days = (paid_on - due).days
                fine = (amount * info.fine_pct / 100).quantize(CENT, ROUND_HALF_UP)
                interest = (amount * info.interest_pct / 100 * days / 30).quantize(
                    CENT, ROUND_HALF_UP
                )
                payment_amount = amount + fine + interest
            if issued_at is None:
                rows.append(
                    {
                        "b_id": invoice_id,
                        "b_issued_at": None,
                        "b_status": "paid",
                        "b_paid_on": paid_on,
                    }
                )
            self.w.add(
                "payment",
                {
                    "id": self.w.next_id("payment"),
                    "invoice_id": invoice_id,
                    "boleto_id": None,
                    "paid_on": paid_on,
                    "amount": payment_amount,
                    "method": method,
                },
            )
        table = Invoice.__table__
        dated = [r for r in rows if r["b_issued_at"] is not None]
        undated = [r for r in rows if r["b_issued_at"] is None]
        if dated:
            conn.execute(
                update(table)  # type: ignore[arg-type]
                .where(table.c.id == bindparam("b_id"))
                .values(
                    issued_at=bindparam("b_issued_at"),
                    status=bindparam("b_status"),
                    paid_on=bindparam("b_paid_on"),
                ),
                dated,
            )
        if undated:
            conn.execute(
                update(table)  # type: ignore[arg-type]
                .where(table.c.id == bindparam("b_id"))
                .values(status=bindparam("b_status"), paid_on=bindparam("b_paid_on")),
                undated,
            )
        recent = self.today - timedelta(days=RECENT_AUDIT_DAYS)
        conn.execute(
            delete(AuditRecord).where(
                AuditRecord.action == "invoice_issue",
                AuditRecord.at < datetime(recent.year, recent.month, recent.day, tzinfo=UTC),
            )
        )
        self.w.flush()

    # ------------------------------------------------------------ utilization

    def utilization_of(self, info: _CompanyInfo, records: list[_Record], premium: int) -> None:
        rng = self.rng
        if not records or self._active_months == 0 or self.utilization <= 0:
            return
        per_month = self.utilization * len(records) / self._active_months
        expected_reais = per_month * self._expected_cost
        scale = info.loss_ratio * premium / 100 / expected_reais if expected_reais else 1.0
        scale = min(4.0, max(0.5, scale))
        all_providers = self.provider_ids
        for rec in records:
            first, end = self._span(rec)
            if end <= first:
                continue
            count = _poisson(rng, per_month * (end - first))
            if count == 0:
                continue
            bid, plan_id, _, effective, exclusion, state, child = rec
            low = max(effective, self.window_start)
            high = min(
                (exclusion - timedelta(days=1)) if exclusion else self.yesterday, self.yesterday
            )
            if high < low:
                continue
            span = (high - low).days
            local = self.providers_by_state.get(state) or all_providers
            favourite = rng.choice(local)
            cum, indices = self.catalog[(plan_id, child)]
            total_weight = cum[-1]
            while count > 0:
                visit = min(count, rng.choice((1, 1, 2, 2, 3)))
                count -= visit
                day = low + timedelta(days=rng.randint(0, span))
                provider = favourite if rng.random() < 0.75 else rng.choice(local)
                for _ in range(visit):
                    pick = bisect.bisect_right(cum, rng.random() * total_weight)
                    proc = PROCEDURES[indices[pick]]
                    cost = float(proc[3]) * scale * (0.85 + 0.3 * rng.random())
                    self.w.add(
                        "utilization_event",
                        {
                            "id": self.w.next_id("utilization_event"),
                            "company_id": info.id,
                            "beneficiary_id": bid,
                            "provider_id": provider,
                            "event_date": day,
                            "tuss_code": proc[0],
                            "procedure_name": proc[1],
                            "procedure_group": proc[2],
                            "amount": _money(round(cost * 100)),
                        },
                    )

    # ------------------------------------------------------------ protocols

    def protocol(
        self,
        info: _CompanyInfo,
        kind: str,
        subject: str,
        description: str,
        opened_at: datetime,
        user_id: int | None,
        *,
        answer: str,
        answer_after_hours: float | None = None,
        target_status: str = "closed",
    ) -> int:
        """One protocol with its history; statuses never run past yesterday."""
        rng = self.rng
        opened_on = opened_at.date()
        seq = self.protocol_seq.get(opened_on, 0) + 1
        self.protocol_seq[opened_on] = seq
        pid = self.w.next_id("protocol")
        deadline = add_business_days(opened_on, 7)
        limit = datetime(
            self.yesterday.year, self.yesterday.month, self.yesterday.day, 23, 0, tzinfo=UTC
        )
        steps: list[tuple[datetime, str, str, int | None]] = [
            (opened_at, "open", "Protocolo aberto pelo portal.", user_id)
        ]
        order = ("open", "in_analysis", "answered", "closed")
        if answer_after_hours is not None:
            answered_at = opened_at + timedelta(hours=answer_after_hours, minutes=2)
        else:
            analysis_day = add_business_days(opened_on, 1)
            steps.append(
                (
                    _at(analysis_day, rng),
                    "in_analysis",
                    "Em análise pela equipe de atendimento.",
                    self.manager_id,
                )
            )
            answer_day = add_business_days(opened_on, rng.randint(2, 6))
            answered_at = _at(answer_day, rng)
        steps.append((answered_at, "answered", answer, self.manager_id))
        steps.append(
            (
                answered_at + timedelta(days=rng.randint(1, 3)),
                "closed",
                "Protocolo encerrado.",
                user_id,
            )
        )
        steps = [
            s for s in steps if s[0] <= limit and order.index(s[1]) <= order.index(target_status)
        ]
        steps.sort(key=lambda s: s[0])
        status = steps[-1][1]
        self.w.add(
            "protocol",
            {
                "id": pid,
                "company_id": info.id,
                "number": protocol_number(ANS_REGISTRATION, opened_on, seq),
                "kind": kind,
                "subject": subject,
                "description": description,
                "status": status,
                "opened_at": opened_at,
                "deadline": deadline,
                "closed_at": steps[-1][0] if status == "closed" else None,
                "opened_by_user_id": user_id,
            },
        )
        if self._recent(opened_at) and kind not in MOVEMENT_SUBJECTS:
            self.audit(
                opened_at,
                user_id,
                info.id,
                "protocol_open",
                "protocol",
                pid,
                None,
                {"number": protocol_number(ANS_REGISTRATION, opened_on, seq), "subject": subject},
            )
        for at, step_status, note, who in steps:
            self.w.add(
                "protocol_event",
                {
                    "id": self.w.next_id("protocol_event"),
                    "protocol_id": pid,
                    "at": at,
                    "user_id": who,
                    "status": step_status,
                    "note": note,
                },
            )
        return pid

    def requests_of(self, info: _CompanyInfo) -> None:
        rng = self.rng
        count = rng.randint(4, 16)
        opener = info.actor_ids[0]
        for n in range(count):
            kind, subject, question, answer = rng.choice(REQUEST_SUBJECTS)
            if n < 2:
                # Opened 3 to 6 business days ago and still unanswered: deadline soon.
                back = rng.randint(3, 6)
                day = self.today
                while back > 0:
                    day -= timedelta(days=1)
                    if is_business_day(day):
                        back -= 1
                target = "in_analysis" if n == 0 else "open"
            else:
                day = self.today - timedelta(days=rng.randint(8, 330))
                target = "closed" if rng.random() < 0.75 else "answered"
            day = max(day, info.contract_start)
            month = _month_start(_month_index(day) - 1)
            self.protocol(
                info,
                kind,
                subject,
                question.format(month=f"{month:%m/%Y}"),
                _at(day, rng),
                opener,
                answer=answer,
                target_status=target,
            )

    # ------------------------------------------------------------ recent activity

    def _recent(self, at: datetime) -> bool:
        return self.today - timedelta(days=RECENT_AUDIT_DAYS) <= at.date() < self.today

    def audit(
        self,
        at: datetime,
        user_id: int | None,
        company_id: int | None,
        action: str,
        entity: str,
        entity_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        self.w.add(
            "audit_record",
            {
                "id": self.w.next_id("audit_record"),
                "at": at,
                "user_id": user_id,
                "company_id": company_id,
                "action": action,
                "entity": entity,
                "entity_id": None if entity_id is None else str(entity_id),
                "before": before,
                "after": after,
            },
        )

    def invitation(
        self, info: _CompanyInfo, master_id: int, master_name: str, user_id: int, at: datetime
    ) -> None:
        """The master created 100003: its audit record and its invitation e-mail, with a
        working single-use link (what services.access.users.user_add writes)."""
        self.audit(
            at,
            master_id,
            info.id,
            "user_add",
            "user",
            user_id,
            None,
            {
                "user_code": "100003",
                "name": "Juliana Teixeira Ramos",
                "email": "juliana.ramos@horizontelog.com.br",
                "role": "user",
                "permissions": ["finance", "protocols"],
                "status": "pending",
            },
        )
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        draw = random.Random(f"{self.seed}-invitation")
        token = "".join(draw.choice(alphabet) for _ in range(43))
        self.w.add(
            "password_reset_token",
            {
                "id": self.w.next_id("password_reset_token"),
                "purpose": "user_invitation",
                "user_id": user_id,
                "company_id": info.id,
                "email": "juliana.ramos@horizontelog.com.br",
                "token_hash": hashlib.sha256(token.encode("utf-8")).hexdigest(),
                "created_at": at,
                "expires_at": at + timedelta(days=INVITATION_DAYS),
                "used_at": None,
            },
        )
        self.w.add(
            "outbox_email",
            {
                "id": self.w.next_id("outbox_email"),
                "to_address": "juliana.ramos@horizontelog.com.br",
                "subject": INVITATION_SUBJECT,
                "body": (
                    "Olá, Juliana Teixeira Ramos.\n\n"
                    f"{master_name} criou o seu usuário no Portal Empresa da empresa "
                    f"{info.code} · Horizonte Logística Ltda.\n\n"
                    "Seu código de usuário: 100003\n\n"
                    f"Para ativar, abra o link abaixo em até {INVITATION_DAYS} dias e crie a sua "
                    "senha. Ele só pode ser usado uma vez.\n\n"
                    f"{self.base_url}/?convite={token}\n\n"
                    "O login é sempre feito com o código de usuário, não com o CNPJ.\n"
                    "Se você não esperava este convite, ignore este e-mail.\n"
                ),
                "created_at": at,
                "sent_at": None,
                "status": "outbox",
                "attachment_name": None,
            },
        )

    def recent_logins(self) -> None:
        """Logins of each company's users on the recent business days."""
        rng = self.activity_rng
        days = [self.today - timedelta(days=n) for n in range(RECENT_AUDIT_DAYS, 0, -1)]
        for info in self.company_infos:
            for uid in sorted(set(info.actor_ids) - {self.manager_id}):
                for day in days:
                    if is_business_day(day) and rng.random() < 0.6:
                        at = _at(day, rng)
                        self.audit(
                            at,
                            uid,
                            info.id,
                            "login",
                            "user",
                            uid,
                            None,
                            {"last_login_at": at.isoformat()},
                        )

    # ------------------------------------------------------------ counters

    def counters(self) -> None:
        self.w.add("counter", {"name": "card_number", "value": self.w.ids["beneficiary"]})
        self.w.add("counter", {"name": "user_code", "value": self.max_user_code})
        for day, seq in sorted(self.protocol_seq.items()):
            self.w.add("counter", {"name": f"protocol:{day:%Y%m%d}", "value": seq})


def _cumulative(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# ---------------------------------------------------------------- entry points


def _reset(conn: Connection) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            conn.execute(delete(table))
    conn.commit()


def _sync_sequences(conn: Connection) -> None:
    """PostgreSQL: move each id sequence past the ids written here."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )
    conn.commit()


def _default_base_url(port: int | None = None) -> str:
    from config import get_settings

    return get_settings().link_base(port)


def seed_demo(
    engine: Engine,
    *,
    companies: int = 8,
    beneficiaries: int = 3000,
    seed: int = 2026,
    today: date | None = None,
    reset: bool = False,
    utilization_per_beneficiary: float = 4.0,
    progress: Callable[[str], None] | None = None,
    base_url: str | None = None,
    invoice_months: int | None = None,
) -> DemoSummary:
    """Fill the database with a reproducible demo world (same seed, today and base URL,
    same rows). `base_url` starts the links of the seeded e-mails (default: PORTAL_BASE_URL
    or http://localhost:8501). `invoice_months` is how many months up to the current one
    are invoiced by the billing run (default: 24, or `BIG_SEED_INVOICE_MONTHS` above
    `FULL_HISTORY_UP_TO` beneficiaries); each company's billing_start is the first."""
    if not 1 <= companies <= 50_000:
        raise ValueError("companies must be between 1 and 50,000")
    if beneficiaries < 0 or beneficiaries > 10_000_000:
        raise ValueError("beneficiaries must be between 0 and 10,000,000")
    if invoice_months is None:
        invoice_months = (
            INVOICE_MONTHS if beneficiaries <= FULL_HISTORY_UP_TO else BIG_SEED_INVOICE_MONTHS
        )
    if not 1 <= invoice_months <= INVOICE_MONTHS:
        raise ValueError(f"invoice_months must be between 1 and {INVOICE_MONTHS}")
    report = progress or (lambda _message: None)
    upgrade_to_head(engine)
    with engine.connect() as conn:
        has_data = conn.execute(select(func.count()).select_from(Operator)).scalar_one()
        conn.commit()
        if has_data and not reset:
            raise RuntimeError("database already has data; use --reset")
        if reset:
            report("Apagando os dados existentes")
            _reset(conn)
        writer = _Writer(conn, CHUNK)
        demo = _Demo(
            writer,
            companies=companies,
            beneficiaries=beneficiaries,
            seed=seed,
            today=today or date.today(),
            utilization=utilization_per_beneficiary,
            progress=report,
            base_url=base_url or _default_base_url(),
            invoice_months=invoice_months,
        )
        demo.run()
        _sync_sequences(conn)
        demo.bill(engine)
        demo.settle()
        _sync_sequences(conn)
    c = writer.counts
    return DemoSummary(
        companies=c["company"],
        economic_groups=c["economic_group"],
        plans=c["plan"],
        price_tables=c["price_table"],
        users=c["app_user"],
        providers=c["provider"],
        beneficiaries=c["beneficiary"],
        active_beneficiaries=demo.active,
        movements=c["movement"],
        protocols=c["protocol"],
        protocol_events=c["protocol_event"],
        invoices=demo.invoices,
        invoice_lines=demo.invoice_lines,
        payments=c["payment"],
        utilization_events=c["utilization_event"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`portal-seed`: create the demo database."""
    parser = argparse.ArgumentParser(
        prog="portal-seed", description="Cria os dados de demonstração do Portal Empresa."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="URL do banco (padrão: PORTAL_DATABASE_URL ou instance/portal.db)",
    )
    parser.add_argument("--companies", type=int, default=8)
    parser.add_argument(
        "--beneficiaries",
        type=int,
        default=3000,
        help="total de beneficiários (até 1.000.000 para benchmarks)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reset", action="store_true", help="apaga todos os dados antes de criar a demonstração"
    )
    parser.add_argument("--utilization-per-beneficiary", type=float, default=4.0)
    parser.add_argument(
        "--invoice-months",
        type=int,
        default=None,
        help=f"meses faturados até o atual (padrão: {INVOICE_MONTHS}; "
        f"{BIG_SEED_INVOICE_MONTHS} acima de {format_int(FULL_HISTORY_UP_TO)} beneficiários)",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="início dos links dos e-mails de demonstração (padrão: "
        "PORTAL_BASE_URL, ou http://localhost:PORTA)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="porta em que o portal será servido, para os links quando "
        "PORTAL_BASE_URL não está definida (padrão: 8501)",
    )
    args = parser.parse_args(argv)
    url = args.database_url
    if url is None:
        from config import get_settings

        url = get_settings().database_url
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    engine = make_engine(url)
    try:
        summary = seed_demo(
            engine,
            companies=args.companies,
            beneficiaries=args.beneficiaries,
            seed=args.seed,
            reset=args.reset,
            utilization_per_beneficiary=args.utilization_per_beneficiary,
            progress=progress,
            base_url=args.base_url or _default_base_url(args.port),
            invoice_months=args.invoice_months,
        )
        with engine.connect() as conn:
            first_access = conn.execute(
                select(Company.code, Company.document, Company.contact_email).where(
                    Company.code == "10004"
                )
            ).first()
    except RuntimeError as exc:
        print(f"portal-seed: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Demo criada em {time.perf_counter() - started:.1f} s: {summary.line()}")
    print(
        "Contas de demonstração (senha Sorriso@2026): 900001 gestor de contas, "
        "100001 master da empresa 10001, 100002 usuário (movimentação e relatórios), "
        "100003 usuário pendente: o link do convite está na Caixa de saída (entre como "
        "900001)."
    )
    if first_access is not None:
        print(
            f"Primeiro acesso de empresa: código {first_access[0]}, CNPJ {first_access[1]}, "
            f"e-mail de contato {first_access[2]}: o link de ativação chega na Caixa de "
            "saída (entre como 900001)."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
