"""Survey and registry readers on real INEI/UNHCR files and on synthetic files with the contract's quirks."""

from __future__ import annotations

import pandas as pd
import pytest

from dagster_project.pseudonymize import Pseudonymizer
from dagster_project.sources.landing import LandingFileError
from dagster_project.sources.landing import find_files
from dagster_project.sources.registry.readers import EXTRACT_PATTERN, read_extract, read_unhcr_table
from dagster_project.sources.survey.readers import find_crosswalk, harmonize_module, read_module_file, read_survey_table
from dagster_project.sources.tabular import normalize_header


def module(survey: str, wave: str, table: str):
    crosswalk = find_crosswalk(survey, wave)
    return crosswalk, next(m for m in crosswalk.modules if m.table == table)


def test_real_enahopv_2024_members_give_inei_published_share_of_women(real_data):
    crosswalk, mapping = module("enahopv", "2024", "survey_members")
    frame = harmonize_module(read_module_file(real_data / "inei" / "Enahopv01-2024-200.csv"), mapping, crosswalk,
                             "survey/enahopv/2024/Enahopv01-2024-200.csv")
    assert len(frame) == 11_243
    venezuelans = frame[frame.p209a == 2]
    assert len(venezuelans) == 9_530
    assert venezuelans.weight.sum() == pytest.approx(997_614, abs=1)
    assert (frame.population_group == "migrant").sum() == 9_530  # the crosswalk's rule: migrant when P209A == 2
    assert frame.population_group[frame.p209a != 2].isna().all()
    women = venezuelans.weight[venezuelans.p207 == 2].sum() / venezuelans.weight.sum()
    assert women == pytest.approx(0.52, abs=0.01)  # INEI ENAHOPV 2024: 52% of the Venezuelan population are women
    assert frame.conglome.str.len().eq(6).all() and frame.codperso.str.len().eq(2).all()  # leading zeros kept


def test_real_enaho_2019_dta_without_weight_and_ocu500_is_rejected_by_name(real_data):
    crosswalk, mapping = module("enaho", "2019", "survey_employment")
    frame = read_module_file(real_data / "inei" / "enaho01a-2019-500.dta")
    with pytest.raises(LandingFileError) as error:
        harmonize_module(frame, mapping, crosswalk, "survey/enaho/2019/enaho01a-2019-500.dta")
    message = str(error.value)
    assert "enaho01a-2019-500.dta" in message and "fac500a" in message and "ocu500" in message


def test_real_label_valued_2023_sample_loads_through_the_crosswalk_labels(real_data):
    crosswalk, mapping = module("enaho", "2023", "survey_employment")
    frame = harmonize_module(read_module_file(real_data / "inei" / "enaho01a-2023-500_sample.csv"), mapping,
                             crosswalk, "survey/enaho/2023/enaho01a-2023-500.csv")
    assert frame.ocu500.tolist() == [1, 1, 1, 1, 1]  # `ocupado`
    assert frame.ocupinf.tolist() == [2, 2, 1, 1, 1]  # `empleo formal` / `empleo informal`
    assert frame.estrato.tolist() == [4] * 5 and frame.p511a.iloc[0] == 2 and frame.p511a.iloc[3] == 7
    assert frame.p558a1.tolist() == [1, 0, 0, 0, 0] and frame.p558a5.tolist() == [0, 5, 5, 5, 5]  # AFP / not affiliated


def write_enaho_members(folder, rows: str, encoding: str = "latin-1") -> None:
    folder.mkdir(parents=True)
    header = "aÑo,mes,conglome,vivienda,hogar,codperso,ubigeo,dominio,estrato,p207,p208a,facpob07\n"
    (folder / "ENAHO01-2024-200.csv").write_text(header + rows, encoding=encoding)


def test_latin1_blanks_and_leading_zeros_are_read_as_inei_writes_them(tmp_path):
    write_enaho_members(tmp_path / "survey" / "enaho" / "2024",
                        "2024,05,5,7,11,1,10101,4,1,2,34,120.5\n2024,05,000005,007,11,02,010101,4,1, , ,120.5\n")
    frame, files = read_survey_table(tmp_path, "survey_members")
    assert frame.conglome.tolist() == ["000005", "000005"] and frame.codperso.tolist() == ["01", "02"]
    assert frame.ubigeo.tolist() == ["010101", "010101"]
    assert frame.p207.isna().tolist() == [False, True] and frame.p209a.isna().all()
    assert files[0].name == "survey/enaho/2024/ENAHO01-2024-200.csv" and files[0].rows == 2


def test_an_unknown_label_names_file_row_and_column(tmp_path):
    write_enaho_members(tmp_path / "survey" / "enaho" / "2024", "2024,05,5,7,11,1,10101,4,1,hombre,34,1\n"
                                                                "2024,05,5,7,11,2,10101,4,1,varón,30,1\n")
    with pytest.raises(LandingFileError) as error:
        read_survey_table(tmp_path, "survey_members")
    assert (error.value.row, error.value.column) == (3, "p207") and "varón" in error.value.reason


def test_a_wave_without_crosswalk_is_an_error_that_says_what_to_add(tmp_path):
    write_enaho_members(tmp_path / "survey" / "enaho" / "1999", "1999,05,5,7,11,1,10101,4,1,1,34,1\n")
    with pytest.raises(LandingFileError, match="no crosswalk for survey 'enaho' wave 1999"):
        read_survey_table(tmp_path, "survey_members")


EXTRACT = (
    "id_persona;tipo_documento;num_documento;nombres;apellidos;sexo;fecha_nacimiento;nacionalidad;"
    "fecha_ultimo_ingreso;calidad_migratoria;fecha_inicio_calidad;fecha_vencimiento;ubigeo_residencia\n"
    "100000001;cedula;v-12.345.678 ;José;Pérez Núñez;M;01/02/1990;ven;04/03/2019;cpp;05/06/2023;05/06/2024;10101\n"
    "100000002;CEDULA;V12345678;Ana;Lópe;F;1991-02-30;VEN;;IRREGULAR;;;\n"
)


def test_registry_extract_is_pseudonymized_normalized_and_nameless(tmp_path):
    folder = tmp_path / "registry" / "migraciones"
    folder.mkdir(parents=True)
    (folder / "extract_2024-05.csv").write_bytes(EXTRACT.encode("latin-1"))
    (folder / "extract_2024-06.csv.tmp").write_text("still being written")  # ignored until renamed
    assert [p.name for p in find_files(folder, EXTRACT_PATTERN)] == ["extract_2024-05.csv"]
    frame = read_extract(folder / "extract_2024-05.csv", tmp_path, Pseudonymizer(b"k" * 32))
    assert frame.source_file.unique().tolist() == ["registry/migraciones/extract_2024-05.csv"]
    assert "nombres" not in frame.columns and "id_persona" not in frame.columns and "num_documento" not in frame.columns
    assert frame.document_key.iloc[0] == frame.document_key.iloc[1]  # one document however it was typed
    assert frame.person_key.str.fullmatch(r"[0-9a-f]{64}").all() and frame.person_key.nunique() == 2
    assert frame.fecha_nacimiento.fillna("").tolist() == ["1990-02-01", ""]  # the impossible date is no date…
    assert frame._dates_not_understood.fillna("").tolist() == ["", "fecha_nacimiento '1991-02-30'"]  # …and stays visible
    assert frame.ubigeo_residencia.tolist()[0] == "010101" and frame.calidad_migratoria.tolist() == ["CPP", "IRREGULAR"]
    assert frame.extract_month.unique().tolist() == ["2024-05"]
    text = frame.to_csv()
    assert "José" not in text and "12345678" not in text and "100000001" not in text


def test_real_unhcr_population_reproduces_published_venezuela_peru_figures(real_data, tmp_path):
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "unhcr").symlink_to(real_data / "unhcr", target_is_directory=True)
    frame, _files = read_unhcr_table(tmp_path, "unhcr_population")
    venezuela_peru = frame[(frame.coo_iso == "VEN") & (frame.coa_iso == "PER")].set_index("year")
    published = {2022: (4_763, 531_788, 969_817), 2023: (4_906, 493_476, 1_043_622), 2024: (4_942, 522_732, 1_135_215)}
    for year, figures in published.items():
        row = venezuela_peru.loc[year]
        assert (row.refugees, row.asylum_seekers, row.oip) == figures


def test_an_optional_weight_may_be_missing_but_a_required_variable_may_not(tmp_path):
    folder = tmp_path / "survey" / "enaho" / "2024"
    folder.mkdir(parents=True)
    (folder / "enaho01a-2024-300.csv").write_text("conglome,vivienda,hogar,codperso,estrato,p301a\n5,7,11,1,1,10\n")
    frame, _files = read_survey_table(tmp_path, "survey_education")
    assert frame.weight.isna().all() and frame.p301a.tolist() == [10]
    (folder / "enaho01a-2024-300.csv").write_text("conglome,vivienda,hogar,codperso,estrato\n5,7,11,1,1\n")
    with pytest.raises(LandingFileError, match="missing variables p301a"):
        read_survey_table(tmp_path, "survey_education")


def test_a_population_rule_on_a_variable_the_file_lacks_is_an_error(tmp_path):
    crosswalk, mapping = module("enahopv", "2024", "survey_members")
    frame = pd.DataFrame({"conglome": ["5"], "vivienda": ["7"], "hogar": ["11"], "codperso": ["1"], "estrato": ["1"],
                          "factor": ["10"], "ubigeo": ["150101"], "p207": ["1"], "p208a": ["30"]})
    with pytest.raises(LandingFileError, match="missing variables p209a"):
        harmonize_module(frame, mapping, crosswalk, "survey/enahopv/2024/Enahopv01-2024-200.csv")
    members = harmonize_module(frame.assign(p209a="2"), mapping, crosswalk, "x.csv")
    assert members.population_group.tolist() == ["migrant"]
    enaho_crosswalk, enaho_members = module("enaho", "2024", "survey_members")
    host = harmonize_module(frame.rename(columns={"factor": "facpob07"}), enaho_members, enaho_crosswalk, "y.csv")
    assert host.population_group.tolist() == ["host"]


def test_recode_and_compose_map_a_surveys_own_codes_and_split_ubigeo(tmp_path):
    crosswalk_dir = tmp_path / "crosswalks"
    crosswalk_dir.mkdir()
    (crosswalk_dir / "enpove-2022.yaml").write_text(
        "survey: enpove\nwaves: [2022]\npopulation: {group: migrant, when: {variable: P208, equals: 1}}\n"
        "modules:\n  - table: survey_members\n    file: ENPOVE{wave}_200\n"
        "    rename: {conglome: CONGLOMERADO, hogar: NHOGAR, codperso: P200_N, weight: FACTORFINAL, p207: P205, p208a: P206}\n"
        "    absent: [p209a]\n"
        "    compose: {ubigeo: {variables: [CCDD, CCPP, CCDI], width: 2}}\n"
        "    recode: {p207: {1: 1, 2: 2, 3: 2}}\n", encoding="utf-8")
    folder = tmp_path / "landing" / "survey" / "enpove" / "2022"
    folder.mkdir(parents=True)
    header = "CONGLOMERADO,VIVIENDA,NHOGAR,P200_N,ESTRATO,FACTORFINAL,CCDD,CCPP,CCDI,P205,P206,P208\n"
    (folder / "ENPOVE2022_200.csv").write_text(header + "12,1,1,1,2,150.5,15,1,1,3,30,1\n12,1,1,2,2,150.5,7,1,2,1,8,2\n")
    frame, _files = read_survey_table(tmp_path / "landing", "survey_members", crosswalk_dir)
    assert frame.ubigeo.tolist() == ["150101", "070102"]
    assert frame.p207.tolist() == [2, 1]  # code 3 recoded to 2
    assert frame.population_group.tolist()[0] == "migrant" and pd.isna(frame.population_group.tolist()[1])
    (folder / "ENPOVE2022_200.csv").write_text(header + "12,1,1,1,2,150.5,15,1,1,4,30,1\n")
    with pytest.raises(LandingFileError) as error:
        read_survey_table(tmp_path / "landing", "survey_members", crosswalk_dir)
    assert (error.value.row, error.value.column) == (2, "p205") and "no `recode` entry" in error.value.reason


def enpove_rows(mapping, rows: list[dict]) -> pd.DataFrame:
    """ENPOVE 2022 integrated-file rows (text, as read) with every variable the module's crosswalk reads, blank
    unless given."""
    variables = {v for column in ("conglome", "vivienda", "hogar", "codperso", "estrato", "weight")
                 for v in mapping.source_variables(column)}
    variables |= {normalize_header(v) for v in mapping.rename.values()}
    variables |= {v for rule in mapping.derive.values() for v in rule.inputs}
    key = {"conglomerado": "12076", "vivienda": "3", "nhogar": "1", "estrato": "2", "factorfinal": "150.5"}
    return pd.DataFrame([{**{v: "" for v in variables}, **key, "p200_n": str(i + 1), **row}
                         for i, row in enumerate(rows)])


def test_enpove_labor_status_hours_and_incomes_are_derived_from_its_own_questions():
    crosswalk, mapping = module("enpove", "2022", "survey_employment")
    no = {"p601": "2", "p603": "2", "p604": "2", **{f"p605_{k}": "2" for k in range(1, 13)}}
    frame = harmonize_module(enpove_rows(mapping, [
        # worked last week, paid daily 60 soles, 3 days with hours in the main job and 5 hours in a second job
        {"p601": "1", "p612": "3", "p613": "1", "p621": "1", "p622_1": "60", "p615_2": "8", "p615_3": "8",
         "p615_4": "6.5", "p615_5": "0", "p615_9": "5", "p617": "1", "p618": "2"},
        {**no, "p605_7": "1", "p612": "2", "p623_1": "900", "p623_2": "50", "p615_1": "4"},  # a paid activity
        {**no, "p626": "1", "p627": "1"},                 # searched last week: open unemployment
        {**no, "p626": "2", "p629": "1", "p630": "1"},    # wants and is available: hidden unemployment
        {**no, "p626": "2", "p629": "1", "p630": "2"},    # not available: inactive
        {},                                               # a child under 5: not asked
    ]), mapping, crosswalk, "survey/enpove/2022/ENPOVE2022_V_200-300-400-500-600-700-800.csv")
    assert frame.ocu500.tolist()[:5] == [1, 1, 2, 3, 4] and pd.isna(frame.ocu500.iloc[5])
    assert frame.p513t.iloc[0] == 22.5 and frame.p518.iloc[0] == 5 and frame.p513t.iloc[1] == 4
    assert frame.i524a1.iloc[0] == 60 * 3 * 52  # daily pay × days worked last week × 52 weeks
    assert (frame.i530a.iloc[1], frame.d536.iloc[1]) == (900 * 12, 50 * 12)  # last month's profit × 12
    assert frame.p507.tolist()[:2] == [3, 2] and frame.contract_or_receipt.iloc[0] == 1
    assert (frame.p521.iloc[0], frame.p521a.iloc[0]) == (1, 2)
    assert frame.ocupinf.isna().all() and frame.p511a.isna().all()  # ENPOVE measures neither
    assert frame.conglome.iloc[0] == "012076" and frame.codperso.tolist()[:2] == ["01", "02"]


def test_enpove_education_maps_both_countries_scales_and_stops_on_an_unknown_level():
    crosswalk, mapping = module("enpove", "2022", "survey_education")
    frame = harmonize_module(enpove_rows(mapping, [
        {"p501a": "1", "p501": "10"},   # universitaria completa in Venezuela
        {"p501a": "1", "p501": "4"},    # básica completa (9 grades): secundaria incompleta
        {"p501a": "2", "p501b": "7"},   # básica especial in Peru
        {"p501a": "2", "p501b": "12"},  # maestría / doctorado in Peru
        {"p501a": "3"},                 # sin nivel
        {},                             # under 3: not asked
    ]), mapping, crosswalk, "enpove.csv")
    assert frame.p301a.tolist()[:5] == [10, 5, 12, 11, 1] and pd.isna(frame.p301a.iloc[5])
    with pytest.raises(LandingFileError) as error:
        harmonize_module(enpove_rows(mapping, [{"p501a": "2", "p501b": "3"}, {"p501a": "2", "p501b": "99"}]),
                         mapping, crosswalk, "enpove.csv")
    assert (error.value.row, error.value.column) == (3, "p501a") and "P501B=99" in error.value.reason
    assert "p301a" in error.value.reason
    with pytest.raises(LandingFileError) as error:
        harmonize_module(enpove_rows(mapping, [{"p501a": "uno"}]), mapping, crosswalk, "enpove.csv")
    assert (error.value.row, error.value.column) == (2, "p501a") and "'uno' is not a number" in error.value.reason


def test_enpove_health_permit_and_discrimination_use_its_own_codes():
    crosswalk, health = module("enpove", "2022", "survey_health")
    frame = harmonize_module(enpove_rows(health, [
        {"p401_1": "0", "p401_2": "0", "p401_3": "1", "p401_4": "0", "p401_5": "0"},   # SIS
        {"p401_1": "0", "p401_2": "0", "p401_3": "0", "p401_4": "0", "p401_5": "1"},   # not affiliated
        {}]), health, crosswalk, "enpove.csv")
    assert frame.p4195.tolist()[:2] == [1, 2] and frame.p4191.tolist()[:2] == [2, 2] and frame.p4198.iloc[1] == 2
    assert frame[["p4191", "p4195", "p4198"]].iloc[2].isna().all() and frame.p4193.isna().all()
    _, migration = module("enpove", "2022", "survey_migration")
    frame = harmonize_module(enpove_rows(migration, [
        {"p307": "15", "p701": "1", "p703_1": "1", "p303_anio": "2018", "p303_mes": "7"},
        {"p307": "9", "p701": "1", "p703_1": "0"}, {"p307": "10", "p701": "2"}]), migration, crosswalk, "enpove.csv")
    assert frame.p1002.tolist() == [6, 2, 5]  # 15 no permit → 6 (none); 9 PTP → 2; 10 expired PTP → 5 (other)
    assert frame.p1009.tolist() == [1, 1, 2] and frame.p1011_1.tolist()[:2] == [1, 0]
    assert frame.p1000_anho.iloc[0] == 2018


def test_a_derive_rule_that_reads_an_undeclared_variable_is_rejected_when_the_crosswalk_loads(tmp_path):
    (tmp_path / "enpove-2022.yaml").write_text(
        "survey: enpove\nwaves: [2022]\npopulation: {group: migrant}\nmodules:\n"
        "  - table: survey_education\n    file: ENPOVE{wave}\n"
        "    derive: {p301a: {from: [P501A], sql: 'case when p501a = 1 then p501 end'}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"enpove-2022.yaml, survey_education: derive 'p301a' does not run"):
        find_crosswalk("enpove", "2022", tmp_path)
