"""The GB/T 4754-2017 table: its shape, and its agreement with the standard's published list."""

from __future__ import annotations

import csv

import pytest

from guanjia.enterprises.industries import DIVISION_CHOICES, DIVISIONS, SECTIONS, section_of


def test_twenty_sections_and_ninety_seven_divisions():
    assert list(SECTIONS) == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert list(DIVISIONS) == [f"{n:02d}" for n in range(1, 98)]
    assert {section for section, _ in DIVISIONS.values()} == set(SECTIONS)


def test_section_of():
    assert section_of("01") == "A"
    assert section_of("39") == "C"
    assert section_of("65") == "I"
    assert section_of("97") == "T"
    for bad in ("00", "98", "C", "391", ""):
        with pytest.raises(KeyError):
            section_of(bad)


def test_division_choices_read_code_and_name():
    assert len(DIVISION_CHOICES) == 97
    assert ("39", "39 计算机、通信和其他电子设备制造业") in DIVISION_CHOICES


def test_table_matches_the_reference_list(shared_data):
    with (shared_data / "gbt4754-2017.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # The reference list carries stray trailing spaces on some names; the standard does not.
    sections = {r["code"].strip(): r["name"].strip() for r in rows if r["level"] == "1"}
    divisions = {
        r["code"].strip(): (r["section"].strip(), r["name"].strip()) for r in rows if r["level"] == "2"
    }
    assert sections == SECTIONS
    assert divisions == DIVISIONS
