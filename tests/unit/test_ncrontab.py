"""NCRONTAB parsing and next-occurrence arithmetic, as the Functions timer extension reads them.

The tables marked "NCrontab" are copied from NCrontab's own test suite, the parser the timer
extension uses: file NCrontab.Tests/CrontabScheduleTests.cs of atifaziz/NCrontab (Apache-2.0),
commit d122d586a0665580f3fde9b8cfc03c5e3abf1909. Times keep that file's `dd/MM/yyyy HH:mm:ss`
form. Its five-field cases (minutes first) are run here as six-field ones with second 0, which is
what NCrontab does with a five-field expression.
"""

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


def _time(text: str) -> datetime:
    for form in ("%d/%m/%Y %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(text)


def _six(expression: str, including_seconds: bool) -> str:
    return expression if including_seconds else "0 " + expression


# --- NCrontab: CrontabScheduleTests.Evaluations (start, expression, next, includingSeconds) ----

NCRONTAB_EVALUATIONS = [
    ("01/01/2003 00:00:00", "* * * * *", "01/01/2003 00:01:00", False),
    ("01/01/2003 00:01:00", "* * * * *", "01/01/2003 00:02:00", False),
    ("01/01/2003 00:02:00", "* * * * *", "01/01/2003 00:03:00", False),
    ("01/01/2003 00:59:00", "* * * * *", "01/01/2003 01:00:00", False),
    ("01/01/2003 01:59:00", "* * * * *", "01/01/2003 02:00:00", False),
    ("01/01/2003 23:59:00", "* * * * *", "02/01/2003 00:00:00", False),
    ("31/12/2003 23:59:00", "* * * * *", "01/01/2004 00:00:00", False),
    ("28/02/2003 23:59:00", "* * * * *", "01/03/2003 00:00:00", False),
    ("28/02/2004 23:59:00", "* * * * *", "29/02/2004 00:00:00", False),
    ("01/01/2003 00:00:00", "45 * * * * *", "01/01/2003 00:00:45", True),
    ("01/01/2003 00:00:00", "45-47,48,49 * * * * *", "01/01/2003 00:00:45", True),
    ("01/01/2003 00:00:45", "45-47,48,49 * * * * *", "01/01/2003 00:00:46", True),
    ("01/01/2003 00:00:46", "45-47,48,49 * * * * *", "01/01/2003 00:00:47", True),
    ("01/01/2003 00:00:47", "45-47,48,49 * * * * *", "01/01/2003 00:00:48", True),
    ("01/01/2003 00:00:48", "45-47,48,49 * * * * *", "01/01/2003 00:00:49", True),
    ("01/01/2003 00:00:49", "45-47,48,49 * * * * *", "01/01/2003 00:01:45", True),
    ("01/01/2003 00:00:00", "2/5 * * * * *", "01/01/2003 00:00:02", True),
    ("01/01/2003 00:00:02", "2/5 * * * * *", "01/01/2003 00:00:07", True),
    ("01/01/2003 00:00:50", "2/5 * * * * *", "01/01/2003 00:00:52", True),
    ("01/01/2003 00:00:52", "2/5 * * * * *", "01/01/2003 00:00:57", True),
    ("01/01/2003 00:00:57", "2/5 * * * * *", "01/01/2003 00:01:02", True),
    ("24/02/2021 09:50:35", "* 0-1 10 * * *", "24/02/2021 10:00:00", True),
    ("01/01/2003 00:00:00", "45 * * * *", "01/01/2003 00:45:00", False),
    ("01/01/2003 00:00:00", "45-47,48,49 * * * *", "01/01/2003 00:45:00", False),
    ("01/01/2003 00:45:00", "45-47,48,49 * * * *", "01/01/2003 00:46:00", False),
    ("01/01/2003 00:46:00", "45-47,48,49 * * * *", "01/01/2003 00:47:00", False),
    ("01/01/2003 00:47:00", "45-47,48,49 * * * *", "01/01/2003 00:48:00", False),
    ("01/01/2003 00:48:00", "45-47,48,49 * * * *", "01/01/2003 00:49:00", False),
    ("01/01/2003 00:49:00", "45-47,48,49 * * * *", "01/01/2003 01:45:00", False),
    ("01/01/2003 00:00:00", "2/5 * * * *", "01/01/2003 00:02:00", False),
    ("01/01/2003 00:02:00", "2/5 * * * *", "01/01/2003 00:07:00", False),
    ("01/01/2003 00:50:00", "2/5 * * * *", "01/01/2003 00:52:00", False),
    ("01/01/2003 00:52:00", "2/5 * * * *", "01/01/2003 00:57:00", False),
    ("01/01/2003 00:57:00", "2/5 * * * *", "01/01/2003 01:02:00", False),
    ("24/02/2021 09:50:35", "* * 10 * * *", "24/02/2021 10:00:00", True),
    ("24/02/2021 09:50:35", "* 55 * * * *", "24/02/2021 09:55:00", True),
    ("01/01/2003 00:00:30", "3 45 * * * *", "01/01/2003 00:45:03", True),
    ("01/01/2003 00:00:30", "6 45-47,48,49 * * * *", "01/01/2003 00:45:06", True),
    ("01/01/2003 00:45:30", "6 45-47,48,49 * * * *", "01/01/2003 00:46:06", True),
    ("01/01/2003 00:46:30", "6 45-47,48,49 * * * *", "01/01/2003 00:47:06", True),
    ("01/01/2003 00:47:30", "6 45-47,48,49 * * * *", "01/01/2003 00:48:06", True),
    ("01/01/2003 00:48:30", "6 45-47,48,49 * * * *", "01/01/2003 00:49:06", True),
    ("01/01/2003 00:49:30", "6 45-47,48,49 * * * *", "01/01/2003 01:45:06", True),
    ("01/01/2003 00:00:30", "9 2/5 * * * *", "01/01/2003 00:02:09", True),
    ("01/01/2003 00:02:30", "9 2/5 * * * *", "01/01/2003 00:07:09", True),
    ("01/01/2003 00:50:30", "9 2/5 * * * *", "01/01/2003 00:52:09", True),
    ("01/01/2003 00:52:30", "9 2/5 * * * *", "01/01/2003 00:57:09", True),
    ("01/01/2003 00:57:30", "9 2/5 * * * *", "01/01/2003 01:02:09", True),
    ("20/12/2003 10:00:00", " * 3/4 * * *", "20/12/2003 11:00:00", False),
    ("20/12/2003 00:30:00", " * 3   * * *", "20/12/2003 03:00:00", False),
    ("20/12/2003 01:45:00", "30 3   * * *", "20/12/2003 03:30:00", False),
    ("07/01/2003 00:00:00", "30  *  1 * *", "01/02/2003 00:30:00", False),
    ("01/02/2003 00:30:00", "30  *  1 * *", "01/02/2003 01:30:00", False),
    ("01/01/2003 00:00:00", "10  * 22    * *", "22/01/2003 00:10:00", False),
    ("01/01/2003 00:00:00", "30 23 19    * *", "19/01/2003 23:30:00", False),
    ("01/01/2003 00:00:00", "30 23 21    * *", "21/01/2003 23:30:00", False),
    ("01/01/2003 00:01:00", " *  * 21    * *", "21/01/2003 00:00:00", False),
    ("10/07/2003 00:00:00", " *  * 30,31 * *", "30/07/2003 00:00:00", False),
    ("28/02/2002 23:59:59", "* * * 3 *", "01/03/2002 00:00:00", False),
    ("29/02/2004 23:59:59", "* * * 3 *", "01/03/2004 00:00:00", False),
    ("31/03/2002 23:59:59", "* * * 4 *", "01/04/2002 00:00:00", False),
    ("30/04/2002 23:59:59", "* * * 5 *", "01/05/2002 00:00:00", False),
    ("01/01/2000 00:00:00", "0 0 15,30,31 * *", "15/01/2000 00:00:00", False),
    ("15/01/2000 00:00:00", "0 0 15,30,31 * *", "30/01/2000 00:00:00", False),
    ("30/01/2000 00:00:00", "0 0 15,30,31 * *", "31/01/2000 00:00:00", False),
    ("31/01/2000 00:00:00", "0 0 15,30,31 * *", "15/02/2000 00:00:00", False),
    ("15/02/2000 00:00:00", "0 0 15,30,31 * *", "15/03/2000 00:00:00", False),
    ("15/03/2000 00:00:00", "0 0 15,30,31 * *", "30/03/2000 00:00:00", False),
    ("30/03/2000 00:00:00", "0 0 15,30,31 * *", "31/03/2000 00:00:00", False),
    ("31/03/2000 00:00:00", "0 0 15,30,31 * *", "15/04/2000 00:00:00", False),
    ("15/04/2000 00:00:00", "0 0 15,30,31 * *", "30/04/2000 00:00:00", False),
    ("30/04/2000 00:00:00", "0 0 15,30,31 * *", "15/05/2000 00:00:00", False),
    ("15/05/2000 00:00:00", "0 0 15,30,31 * *", "30/05/2000 00:00:00", False),
    ("30/05/2000 00:00:00", "0 0 15,30,31 * *", "31/05/2000 00:00:00", False),
    ("31/05/2000 00:00:00", "0 0 15,30,31 * *", "15/06/2000 00:00:00", False),
    ("15/06/2000 00:00:00", "0 0 15,30,31 * *", "30/06/2000 00:00:00", False),
    ("30/06/2000 00:00:00", "0 0 15,30,31 * *", "15/07/2000 00:00:00", False),
    ("15/07/2000 00:00:00", "0 0 15,30,31 * *", "30/07/2000 00:00:00", False),
    ("30/07/2000 00:00:00", "0 0 15,30,31 * *", "31/07/2000 00:00:00", False),
    ("31/07/2000 00:00:00", "0 0 15,30,31 * *", "15/08/2000 00:00:00", False),
    ("15/08/2000 00:00:00", "0 0 15,30,31 * *", "30/08/2000 00:00:00", False),
    ("30/08/2000 00:00:00", "0 0 15,30,31 * *", "31/08/2000 00:00:00", False),
    ("31/08/2000 00:00:00", "0 0 15,30,31 * *", "15/09/2000 00:00:00", False),
    ("15/09/2000 00:00:00", "0 0 15,30,31 * *", "30/09/2000 00:00:00", False),
    ("30/09/2000 00:00:00", "0 0 15,30,31 * *", "15/10/2000 00:00:00", False),
    ("15/10/2000 00:00:00", "0 0 15,30,31 * *", "30/10/2000 00:00:00", False),
    ("30/10/2000 00:00:00", "0 0 15,30,31 * *", "31/10/2000 00:00:00", False),
    ("31/10/2000 00:00:00", "0 0 15,30,31 * *", "15/11/2000 00:00:00", False),
    ("15/11/2000 00:00:00", "0 0 15,30,31 * *", "30/11/2000 00:00:00", False),
    ("30/11/2000 00:00:00", "0 0 15,30,31 * *", "15/12/2000 00:00:00", False),
    ("15/12/2000 00:00:00", "0 0 15,30,31 * *", "30/12/2000 00:00:00", False),
    ("30/12/2000 00:00:00", "0 0 15,30,31 * *", "31/12/2000 00:00:00", False),
    ("31/12/2000 00:00:00", "0 0 15,30,31 * *", "15/01/2001 00:00:00", False),
    ("01/12/2003 05:00:00", "10 * * 6 *", "01/06/2004 00:10:00", False),
    ("04/01/2003 00:00:00", " 1 2 3 * *", "03/02/2003 02:01:00", False),
    ("01/07/2002 05:00:00", "10 * * February,April-Jun *", "01/02/2003 00:10:00", False),
    ("01/01/2003 00:00:00", "0 12 1 6 *", "01/06/2003 12:00:00", False),
    ("11/09/1988 14:23:00", "* 12 1 6 *", "01/06/1989 12:00:00", False),
    ("11/03/1988 14:23:00", "* 12 1 6 *", "01/06/1988 12:00:00", False),
    ("11/03/1988 14:23:00", "* 2,4-8,15 * 6 *", "01/06/1988 02:00:00", False),
    (
        "11/03/1988 14:23:00",
        "20 * * january,FeB,Mar,april,May,JuNE,July,Augu,SEPT-October,Nov,DECEM *",
        "11/03/1988 15:20:00",
        False,
    ),
    ("26/06/2003 10:00:00", "30 6 * * 0", "29/06/2003 06:30:00", False),
    ("26/06/2003 10:00:00", "30 6 * * sunday", "29/06/2003 06:30:00", False),
    ("26/06/2003 10:00:00", "30 6 * * SUNDAY", "29/06/2003 06:30:00", False),
    ("19/06/2003 00:00:00", "1 12 * * 2", "24/06/2003 12:01:00", False),
    ("24/06/2003 12:01:00", "1 12 * * 2", "01/07/2003 12:01:00", False),
    ("01/06/2003 14:55:00", "15 18 * * Mon", "02/06/2003 18:15:00", False),
    ("02/06/2003 18:15:00", "15 18 * * Mon", "09/06/2003 18:15:00", False),
    ("09/06/2003 18:15:00", "15 18 * * Mon", "16/06/2003 18:15:00", False),
    ("16/06/2003 18:15:00", "15 18 * * Mon", "23/06/2003 18:15:00", False),
    ("23/06/2003 18:15:00", "15 18 * * Mon", "30/06/2003 18:15:00", False),
    ("30/06/2003 18:15:00", "15 18 * * Mon", "07/07/2003 18:15:00", False),
    ("01/01/2003 00:00:00", "* * * * Mon", "06/01/2003 00:00:00", False),
    ("01/01/2003 12:00:00", "45 16 1 * Mon", "01/09/2003 16:45:00", False),
    ("01/09/2003 23:45:00", "45 16 1 * Mon", "01/12/2003 16:45:00", False),
    ("01/01/2000 12:00:00", "1 12 29 2 *", "29/02/2000 12:01:00", False),
    ("29/02/2000 12:01:00", "1 12 29 2 *", "29/02/2004 12:01:00", False),
    ("29/02/2004 12:01:00", "1 12 29 2 *", "29/02/2008 12:01:00", False),
    ("01/01/2000 12:00:00", "1 12 28 2 *", "28/02/2000 12:01:00", False),
    ("28/02/2000 12:01:00", "1 12 28 2 *", "28/02/2001 12:01:00", False),
    ("28/02/2001 12:01:00", "1 12 28 2 *", "28/02/2002 12:01:00", False),
    ("28/02/2002 12:01:00", "1 12 28 2 *", "28/02/2003 12:01:00", False),
    ("28/02/2003 12:01:00", "1 12 28 2 *", "28/02/2004 12:01:00", False),
    ("29/02/2004 12:01:00", "1 12 28 2 *", "28/02/2005 12:01:00", False),
    ("01/01/2000 12:00:00", "40 14/1 * * *", "01/01/2000 14:40:00", False),
    ("01/01/2000 14:40:00", "40 14/1 * * *", "01/01/2000 15:40:00", False),
]


@pytest.mark.parametrize(("start", "expression", "expected", "seconds"), NCRONTAB_EVALUATIONS)
def test_ncrontab_evaluations(start: str, expression: str, expected: str, seconds: bool) -> None:
    schedule = parse_ncrontab(_six(expression, seconds))
    assert schedule.next_after(_time(start)) == _time(expected)


# --- NCrontab: CrontabScheduleTests.FiniteOccurrences (expression, start, end): none before end -

NCRONTAB_FINITE = [
    (" *  * * * *  ", "01/01/2003 00:00:00", "01/01/2003 00:00:00", False),
    (" *  * * * *  ", "31/12/2002 23:59:59", "01/01/2003 00:00:00", False),
    (" *  * * * Mon", "31/12/2002 23:59:59", "01/01/2003 00:00:00", False),
    (" *  * * * Mon", "01/01/2003 00:00:00", "02/01/2003 00:00:00", False),
    (" *  * * * Mon", "01/01/2003 00:00:00", "02/01/2003 12:00:00", False),
    ("30 12 * * Mon", "01/01/2003 00:00:00", "06/01/2003 12:00:00", False),
    (" *  *  * * * *  ", "01/01/2003 00:00:00", "01/01/2003 00:00:00", True),
    (" *  *  * * * *  ", "31/12/2002 23:59:59", "01/01/2003 00:00:00", True),
    (" *  *  * * * Mon", "31/12/2002 23:59:59", "01/01/2003 00:00:00", True),
    (" *  *  * * * Mon", "01/01/2003 00:00:00", "02/01/2003 00:00:00", True),
    (" *  *  * * * Mon", "01/01/2003 00:00:00", "02/01/2003 12:00:00", True),
    ("10 30 12 * * Mon", "01/01/2003 00:00:00", "06/01/2003 12:00:10", True),
    # GetNextOccurrence: "0 0 29 Feb Mon" has no occurrence in 2017.
    ("0 0 29 Feb Mon", "2017-01-01", "2017-12-31", False),
]


@pytest.mark.parametrize(("expression", "start", "end", "seconds"), NCRONTAB_FINITE)
def test_ncrontab_no_occurrence_before_the_end(
    expression: str, start: str, end: str, seconds: bool
) -> None:
    assert parse_ncrontab(_six(expression, seconds)).next_after(_time(start)) >= _time(end)


def test_ncrontab_february_29_on_a_monday() -> None:
    # GetNextOccurrence and GetNextOccurrences_NextOccurrenceInvalidTime_ShouldStopAtLastValidTime.
    schedule = parse_ncrontab("0 0 0 29 Feb Mon")
    assert schedule.next_after(_time("2017-01-01")) == at(2044, 2, 29)
    assert schedule.next_after(_time("9000-01-01")) == at(9008, 2, 29)
    assert schedule.next_after(_time("9988-01-01")) == at(9988, 2, 29)
    with pytest.raises(ValueError, match="no occurrence"):
        schedule.next_after(at(9988, 2, 29))


# --- NCrontab: CrontabScheduleTests.Formatting (same values, different spelling) -------------

NCRONTAB_SAME_VALUES = [
    ("* 1-3 * * *", "* 1-2,3 * * *", False),
    ("* * * 1,3,5,7,9,11 *", "* * * */2 *", False),
    ("10,25,40 * * * *", "10-40/15 * * * *", False),
    ("* * * 1,3,8 1-2,5", "* * * Mar,Jan,Aug Fri,Mon-Tue", False),
    ("1 * 1-3 * * *", "1 * 1-2,3 * * *", True),
    ("22 * * * 1,3,5,7,9,11 *", "22 * * * */2 *", True),
    ("33 10,25,40 * * * *", "33 10-40/15 * * * *", True),
    ("55 * * * 1,3,8 1-2,5", "55 * * * Mar,Jan,Aug Fri,Mon-Tue", True),
    ("* * * * *", "* * * * *", False),
    ("* * * * * *", "* * * * * *", True),
]


def _fields(schedule: NCrontabSchedule) -> tuple[tuple[int, ...], ...]:
    s = schedule
    return (s.seconds, s.minutes, s.hours, s.days, s.months, s.weekdays)


@pytest.mark.parametrize(("canonical", "expression", "seconds"), NCRONTAB_SAME_VALUES)
def test_ncrontab_spellings_of_the_same_schedule(
    canonical: str, expression: str, seconds: bool
) -> None:
    assert _fields(parse_ncrontab(_six(expression, seconds))) == _fields(
        parse_ncrontab(_six(canonical, seconds))
    )


# --- NCrontab: CrontabScheduleTests bad fields (BadSecondsField ... NonNumericFieldRangeComponent)

NCRONTAB_BAD = [
    "bad * * * * *",
    "* bad * * * *",
    "* * bad * * *",
    "* * * bad * *",
    "* * * * bad *",
    "* * * * * mon,bad,wed",
    "* * 1,2,3,456,7,8,9 * * *",
    "* * 1,Z,3,4 * * *",
    "* * 1/Z * * *",
    "* * 3-l2 * * *",
    "",  # CannotParseEmptyString
    "* * * * *",  # CannotParseWhenSecondsRequired
]


@pytest.mark.parametrize("expression", NCRONTAB_BAD)
def test_ncrontab_bad_fields_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any reason will do, as in NCrontab's tests
        parse_ncrontab(expression)


# --- NCrontab's grammar read from its parser (NCrontab/CrontabFieldImpl.cs, CrontabField.cs) ---


def test_day_of_month_and_day_of_week_must_both_match() -> None:
    # The first Monday of the month: 2024-09-02 is one, 2024-10-07 the next.
    first_monday = parse_ncrontab("0 0 9 1-7 * Mon")
    assert occurrences("0 0 9 1-7 * Mon", at(2024, 9, 1), 2) == [
        at(2024, 9, 2, 9),
        at(2024, 10, 7, 9),
    ]
    assert first_monday.days == (1, 2, 3, 4, 5, 6, 7)
    assert first_monday.weekdays == (1,)


def test_the_13th_only_when_it_is_a_friday() -> None:
    # 2024-09-13 and 2024-12-13 are Fridays, the months between are not.
    assert occurrences("0 0 0 13 * Fri", at(2024, 9, 1), 2) == [at(2024, 9, 13), at(2024, 12, 13)]


def test_an_open_step_in_day_of_week_stops_at_saturday() -> None:
    assert parse_ncrontab("0 0 0 * * 1/2").weekdays == (1, 3, 5)
    assert parse_ncrontab("0 0 0 * * */2").weekdays == (0, 2, 4, 6)


@pytest.mark.parametrize(
    ("expression", "field", "values"),
    [
        ("0 0 0 * * 5-1", "weekdays", (1, 2, 3, 4, 5)),  # a backwards range is swapped
        ("5-1 0 0 * * *", "seconds", (1, 2, 3, 4, 5)),
        ("*/0 0 0 * * *", "seconds", tuple(range(60))),  # a step below 1 means every value
        ("*/-3 0 0 * * *", "seconds", tuple(range(60))),
        ("10-14/0 0 0 * * *", "seconds", (10, 11, 12, 13, 14)),
        ("*/+20 0 0 * * *", "seconds", (0, 20, 40)),
        ("58/5 0 0 * * *", "seconds", (58,)),
        ("0 0 0 * J *", "months", (1,)),  # any leading part of the name, first match wins
        ("0 0 0 * Ju *", "months", (6,)),
        ("0 0 0 * jul-AUGUST *", "months", (7, 8)),
        ("0 0 0 * * T", "weekdays", (2,)),
        ("0 0 0 * * s,sa", "weekdays", (0, 6)),
        ("0 0 0 * * 1\t", "weekdays", (1,)),  # int.Parse allows trailing white space
        ("0 0 0 * * 1\x00", "weekdays", (1,)),  # ... and trailing NULs
        ("007 0 0 * * *", "seconds", (7,)),
        ("  0   0 0 * * *  ", "seconds", (0,)),  # runs of spaces are one separator
    ],
)
def test_what_ncrontab_accepts(expression: str, field: str, values: tuple[int, ...]) -> None:
    assert getattr(parse_ncrontab(expression), field) == values


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("* * * * * 7", "day-of-week value 7"),  # Sunday is 0 only
        ("* * * * * 5-7", "day-of-week value 7"),
        ("* * * * * 0-7", "day-of-week value 7"),
        ("0\t0 9 * * *", "expected 6 fields"),  # a tab is not a separator
        ("0\t0 9 * * * *", "not a valid value"),
        ("0 0 9 * * *\t", "not a valid value"),
        ("0 0 9\u00a0* * * *", "not a valid value"),  # nor a no-break space
        ("0 0 9\u2003* * *", "expected 6 fields"),  # nor an em space
        ("0\n0 9 * * * *", "not a valid value"),
        ("* * * * Mo *", "not a valid value"),  # a day name in the month field
        ("* * * * * Mondays", "not a valid value"),
        ("* * * * * \u039conday", "not a valid value"),  # Greek capital Mu, not M
        ("+5 * * * * *", "not a valid value"),
        ("*/ 5 * * * * *", "expected 6 fields"),
        ("*/5/2 * * * * *", "not a valid step"),
        ("/5 * * * * *", "not a valid value"),
        ("*/99999999999 * * * * *", "not a valid step"),  # int.Parse overflows
        ("1-2-3 * * * * *", "not a valid value"),
        ("1- * * * * *", "empty value"),
        ("*-5 * * * * *", "not a valid value"),
        ("0-5 * * 0-5 * *", "day value 0"),
        ("60/5 * * * * *", "second value 60"),
        ("1, * * * * *", "empty list item"),
        (",1 * * * * *", "empty list item"),
    ],
)
def test_what_ncrontab_refuses(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_ncrontab(expression)


# --- our own cases ------------------------------------------------------------------------------


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


def test_seven_is_not_sunday() -> None:
    # NCrontab's day-of-week runs 0-6; the host refuses 7 (see test_what_ncrontab_refuses).
    assert parse_ncrontab("0 0 0 * * 0").weekdays == (0,)
    assert parse_ncrontab("0 0 0 * * 5-6,0").weekdays == (0, 5, 6)


def test_lists_ranges_and_stepped_ranges() -> None:
    schedule = parse_ncrontab("0,30 10-20/5 1,2,5-6 * * *")
    assert schedule.seconds == (0, 30)
    assert schedule.minutes == (10, 15, 20)
    assert schedule.hours == (1, 2, 5, 6)


def test_day_of_month_and_day_of_week_when_both_are_restricted() -> None:
    # The 13th when it is a Friday: 2024-09-06 is a Friday but not the 13th; 2024-09-13 is both.
    schedule = parse_ncrontab("0 0 0 13 * Fri")
    assert schedule.next_after(at(2024, 9, 1)) == at(2024, 9, 13)
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
        ("*/x * * * * *", "not a valid step"),
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
    assert after.day in schedule.days
    assert (after.weekday() + 1) % 7 in schedule.weekdays


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
