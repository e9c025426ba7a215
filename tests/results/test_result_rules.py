"""Result codes and the verdict, as pure rules."""
from hypothesis import given
from hypothesis import strategies as st

from egov.dossiers import result_rules
from egov.dossiers.result_rules import Facts, verdict

codes = st.text(alphabet=result_rules.ALPHABET, min_size=16, max_size=16)


def test_a_new_code_has_sixteen_characters_of_the_alphabet_and_is_printed_in_four_groups():
    code = result_rules.new_code()
    assert len(code) == 16 and set(code) <= set(result_rules.ALPHABET)
    assert len(result_rules.display(code)) == 19 and result_rules.display(code).count("-") == 3


def test_new_codes_do_not_repeat():
    assert len({result_rules.new_code() for _ in range(2000)}) == 2000


@given(codes, st.sampled_from([str, str.lower]), st.sampled_from(["-", " ", "", " - "]))
def test_a_code_typed_in_any_case_with_any_separators_reads_back(code, case, separator):
    typed = separator.join(case(code)[i:i + 4] for i in range(0, 16, 4))
    assert result_rules.normalise(typed) == code


def test_letters_that_look_like_digits_read_as_the_digits():
    assert result_rules.normalise("OOOO-IIII-LLLL-0000") == "0000111111110000"


@given(st.text(max_size=30))
def test_anything_else_is_not_a_code(text):
    found = result_rules.normalise(text)
    assert found is None or (len(found) == 16 and set(found) <= set(result_rules.ALPHABET))


def test_wrong_lengths_and_letters_are_not_codes():
    assert result_rules.normalise("ABCD-EFGH-JKMN") is None
    assert result_rules.normalise("ABCD-EFGH-JKMN-PQRSU") is None
    assert result_rules.normalise("ABCD-EFGH-JKMN-PQR!") is None


GOOD = Facts(intact=True, whole_document=True, trusted=True, issued=True, same_file=True)


def test_valid_only_when_every_check_passes():
    assert verdict(GOOD).valid and verdict(GOOD).reasons == ()


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_any_failed_check_makes_it_invalid_and_is_named(intact, whole, trusted, revoked, issued, same_file):
    facts = Facts(intact=intact, whole_document=whole, trusted=trusted, revoked=revoked, issued=issued,
                  same_file=same_file)
    result = verdict(facts)
    all_good = intact and whole and trusted and not revoked and issued and same_file
    assert result.valid == all_good
    assert bool(result.reasons) == (not all_good)
    assert ("revoked" in result.reasons) == revoked
    assert ("untrusted" in result.reasons) == (not trusted)


def test_an_unreadable_or_unsigned_file_says_only_that():
    assert verdict(Facts(problem="unsigned")).reasons == ("unsigned",)
    assert not verdict(Facts(problem="unreadable")).valid


def test_a_replaced_result_stays_valid_and_says_it_was_replaced():
    result = verdict(Facts(intact=True, whole_document=True, trusted=True, issued=True, same_file=True,
                           replaced=True))
    assert result.valid and result.reasons == ("replaced",)
