"""NCRONTAB parsing and next-occurrence arithmetic (Azure Functions six-field format)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.hosting.ncrontab import NCrontabSchedule, parse_ncrontab


def at(  # noqa: PLR0917 - reads like the datetime constructor
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def occurrences(expression: str, start: datetime, count: int) -> list[datetime]:
    schedule = parse_ncrontab(expression)
    found: list[datetime] = []
    moment = start
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment)
    return found


def test_hourly_fires_on_the_hour() -> None:
    assert occurrences("0 0 * * * *", at(2024, 5, 6, 10, 15, 30), 3) == [
        at(2024, 5, 6, 11),
        at(2024, 5, 6, 12),
        at(2024, 5, 6, 13),
    ]


def test_next_is_strictly_after_a_matching_moment() -> None:
    assert parse_ncrontab("0 0 * * * *").next_after(at(2024, 5, 6, 11)) == at(2024, 5, 6, 12)


def test_sub_second_moment_still_moves_forward() -> None:
    moment = at(2024, 5, 6, 10, 59, 59) + timedelta(microseconds=999_999)
    assert parse_ncrontab("0 0 * * * *").next_after(moment) == at(2024, 5, 6, 11)


def test_every_five_seconds() -> None:
    assert occurrences("*/5 * * * * *", at(2024, 1, 1, 0, 0, 3), 3) == [
        at(2024, 1, 1, 0, 0, 5),
        at(2024, 1, 1, 0, 0, 10),
        at(2024, 1, 1, 0, 0, 15),
    ]


def test_every_five_seconds_crosses_the_minute() -> None:
    assert parse_ncrontab("*/5 * * * * *").next_after(at(2024, 1, 1, 0, 0, 57)) == at(
        2024, 1, 1, 0, 1, 0
    )


def test_weekdays_at_half_past_nine_skip_the_weekend() -> None:
    # 2024-03-08 is a Friday.
    assert occurrences("0 30 9 * * Mon-Fri", at(2024, 3, 8, 9, 30), 2) == [
        at(2024, 3, 11, 9, 30),
        at(2024, 3, 12, 9, 30),
    ]


def test_weekdays_before_the_time_fire_the_same_day() -> None:
    assert parse_ncrontab("0 30 9 * * Mon-Fri").next_after(at(2024, 3, 11, 8)) == at(
        2024, 3, 11, 9, 30
    )


def test_month_rollover() -> None:
    assert parse_ncrontab("0 0 0 31 * *").next_after(at(2024, 4, 1)) == at(2024, 5, 31)


def test_year_rollover() -> None:
    assert parse_ncrontab("0 0 0 1 1 *").next_after(at(2024, 12, 31, 23, 59, 59)) == at(2025, 1, 1)


def test_last_second_of_the_year_rolls_over() -> None:
    assert parse_ncrontab("* * * * * *").next_after(at(2024, 12, 31, 23, 59, 59)) == at(2025, 1, 1)


def test_february_29_waits_for_a_leap_year() -> None:
    assert parse_ncrontab("0 0 12 29 Feb *").next_after(at(2025, 3, 1)) == at(2028, 2, 29, 12)


def test_february_29_skips_2100_which_is_not_a_leap_year() -> None:
    assert parse_ncrontab("0 0 0 29 2 *").next_after(at(2096, 3, 1)) == at(2104, 2, 29)


def test_month_and_day_names_are_case_insensitive() -> None:
    upper = parse_ncrontab("0 0 0 * JAN,mar SUN")
    lower = parse_ncrontab("0 0 0 * 1,3 0")
    assert (upper.months, upper.weekdays) == (lower.months, lower.weekdays) == ((1, 3), (0,))


def test_seven_is_sunday_too() -> None:
    assert parse_ncrontab("0 0 0 * * 7").weekdays == (0,)
    assert parse_ncrontab("0 0 0 * * 5-7").weekdays == (0, 5, 6)


def test_lists_ranges_and_stepped_ranges() -> None:
    schedule = parse_ncrontab("0,30 10-20/5 1,2,5-6 * * *")
    assert schedule.seconds == (0, 30)
    assert schedule.minutes == (10, 15, 20)
    assert schedule.hours == (1, 2, 5, 6)


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    # The 13th, or any Friday: 2024-09-06 is a Friday, the 13th comes later.
    schedule = parse_ncrontab("0 0 0 13 * Fri")
    assert schedule.next_after(at(2024, 9, 1)) == at(2024, 9, 6)
    assert schedule.next_after(at(2024, 9, 12)) == at(2024, 9, 13)


def test_day_of_week_alone_restricts() -> None:
    # 2024-09-01 is a Sunday; the next Monday is the 2nd.
    assert parse_ncrontab("0 0 0 * * Mon").next_after(at(2024, 9, 1)) == at(2024, 9, 2)


def test_result_is_utc_for_other_offsets() -> None:
    plus_two = timezone(timedelta(hours=2))
    result = parse_ncrontab("0 0 * * * *").next_after(datetime(2024, 1, 1, 10, 30, tzinfo=plus_two))
    assert result == at(2024, 1, 1, 9)
    assert result.tzinfo is UTC


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_ncrontab("0 0 * * * *").next_after(datetime(2024, 1, 1))


def test_schedule_is_frozen() -> None:
    schedule = parse_ncrontab("0 0 * * * *")
    assert isinstance(schedule, NCrontabSchedule)
    with pytest.raises(AttributeError):
        schedule.seconds = (1,)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 0 * * *", "expected 6 fields"),
        ("0 0 * * * * *", "expected 6 fields"),
        ("", "expected 6 fields"),
        ("60 * * * * *", "second value 60"),
        ("* 60 * * * *", "minute value 60"),
        ("* * 24 * * *", "hour value 24"),
        ("* * * 0 * *", "day value 0"),
        ("* * * 32 * *", "day value 32"),
        ("* * * * 13 *", "month value 13"),
        ("* * * * * 8", "day-of-week value 8"),
        ("* * * * Foo *", "not a valid value"),
        ("* * * * * Mon-Funday", "not a valid value"),
        ("*/0 * * * * *", "step 0"),
        ("*/x * * * * *", "not a valid step"),
        ("5-1 * * * * *", "runs backwards"),
        ("1,,2 * * * * *", "empty list item"),
        ("-1 * * * * *", "not a valid value"),
        ("\u0663 * * * * *", "not a valid value"),
        ("0 0 0 30 Feb *", "never occurs"),
        ("0 0 0 31 4,6,9,11 *", "never occurs"),
    ],
)
def test_invalid_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_ncrontab(expression)


_CRON_ALPHABET = st.sampled_from([*"0123456789*/-, ", "Mon", "Jan", "7", "60", "x"])


@given(st.one_of(st.text(max_size=40), st.lists(_CRON_ALPHABET, max_size=30).map("".join)))
def test_any_string_parses_or_raises_value_error(expression: str) -> None:
    try:
        schedule = parse_ncrontab(expression)
    except ValueError:
        return
    start = at(2024, 2, 28, 23, 59, 59)
    after = schedule.next_after(start)
    assert after > start
    assert after.second in schedule.seconds
    assert after.minute in schedule.minutes
    assert after.hour in schedule.hours
    assert after.month in schedule.months


def test_next_after_agrees_with_a_second_by_second_scan() -> None:
    schedule = parse_ncrontab("*/20 5-6 1 * * *")
    moment = at(2024, 1, 1, 0, 59, 50)
    expected = next(
        moment + timedelta(seconds=n)
        for n in range(1, 86_400 * 2)
        if (moment + timedelta(seconds=n)).second % 20 == 0
        and (moment + timedelta(seconds=n)).minute in (5, 6)
        and (moment + timedelta(seconds=n)).hour == 1
    )
    assert schedule.next_after(moment) == expected == at(2024, 1, 1, 1, 5)
