"""Write a synthetic district of any size in Clever's SFTP CSV format, streaming to disk.

    python bench/gen_district.py --students 100000 --out var/bench/district-100k [--seed 1]

Shape per 1000 students: 2 schools, 40 sections of 30 students (1200 enrolments), 26 teachers
(every fifth section co-taught), 6 staff, a contact for every third student. Rows are written as
they are generated, so memory stays flat whatever ``--students`` is. The output loads in the
look-alike (``world.load_district(DIR)``) and parses with ``rostering.csvformat``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path
from typing import Any, TextIO

STUDENTS_PER_SCHOOL = 500
SECTIONS_PER_1000 = 40
SECTION_SIZE = 30
SECTIONS_PER_TEACHER = 1.5
FIRST = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea")
LAST = ("Abe", "Bose", "Cruz", "Diaz", "Eze", "Fox", "Gil", "Hale", "Ito", "Jha", "Kerr", "Lund")
SUBJECTS = ("math", "science", "english/language arts", "social studies", "arts and music")


def _writer(folder: Path, name: str, header: list[str]) -> tuple[Any, TextIO]:
    handle = (folder / name).open("w", encoding="utf-8", newline="")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    return writer, handle


def generate(students: int, out: Path, seed: int = 1) -> dict[str, int]:
    """Write the six CSV files for a district of ``students`` students; return row counts."""
    if students < 1:
        raise ValueError(f"--students must be at least 1, got {students}")
    rnd = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_schools = max(1, students // STUDENTS_PER_SCHOOL)
    n_sections = max(1, students * SECTIONS_PER_1000 // 1000)
    n_teachers = max(1, int(n_sections / SECTIONS_PER_TEACHER))
    counts = {"schools": n_schools, "sections": n_sections, "teachers": n_teachers}

    def school_of_student(i: int) -> int:
        return i * n_schools // students

    def school_range(s: int) -> tuple[int, int]:
        lo = -(-s * students // n_schools)
        hi = -(-(s + 1) * students // n_schools)
        return lo, hi

    w, h = _writer(
        out, "schools.csv", ["School_id", "School_name", "School_number", "Low_grade", "High_grade"]
    )
    for s in range(n_schools):
        w.writerow([f"SCH{s}", f"Synthetic School {s}", str(1000 + s), "Kindergarten", "12"])
    h.close()

    w, h = _writer(
        out,
        "teachers.csv",
        ["School_id", "Teacher_id", "First_name", "Last_name", "Teacher_email", "Teacher_number"],
    )
    for t in range(n_teachers):
        w.writerow(
            [
                f"SCH{t * n_schools // n_teachers}",
                f"T{t}",
                FIRST[t % 12],
                f"{LAST[t * 7 % 12]}{t}",
                f"t{t}@synthetic.example",
                str(t),
            ]
        )
    h.close()

    staff = max(1, n_schools * 3)
    w, h = _writer(
        out,
        "staff.csv",
        ["School_id", "Staff_id", "Staff_email", "First_name", "Last_name", "Role"],
    )
    for f in range(staff):
        role = "District Admin" if f == 0 else "Counselor"
        w.writerow(
            [
                "" if f == 0 else f"SCH{f % n_schools}",
                f"F{f}",
                f"f{f}@synthetic.example",
                FIRST[f % 12],
                f"Staff{f}",
                role,
            ]
        )
    h.close()
    counts["staff"] = staff

    w, h = _writer(
        out,
        "students.csv",
        [
            "School_id",
            "Student_id",
            "First_name",
            "Last_name",
            "Grade",
            "Student_email",
            "Student_number",
            "Username",
            "Contact_name",
            "Contact_type",
            "Contact_relationship",
        ],
    )
    for i in range(students):
        first, last = FIRST[i % 12], f"{LAST[i * 5 % 12]}{i}"
        contact = ["", "", ""]
        if i % 3 == 0:
            contact = [f"Parent of {first} {last}", "Parent/Guardian", "Parent"]
        w.writerow(
            [
                f"SCH{school_of_student(i)}",
                f"S{i}",
                first,
                last,
                str(1 + i % 12),
                f"s{i}@students.synthetic.example",
                str(i),
                f"s{i}",
                *contact,
            ]
        )
    h.close()
    counts["students"] = students

    sw, sh = _writer(
        out,
        "sections.csv",
        [
            "School_id",
            "Section_id",
            "Teacher_id",
            "Teacher_2_id",
            "Name",
            "Grade",
            "Subject",
            "Course_name",
            "Course_number",
            "Term_name",
            "Term_start",
            "Term_end",
        ],
    )
    ew, eh = _writer(out, "enrollments.csv", ["School_id", "Section_id", "Student_id"])
    enrolments = 0
    for k in range(n_sections):
        school = k * n_schools // n_sections
        lo, hi = school_range(school)
        teacher = k * n_teachers // n_sections
        co = f"T{(teacher + 1) % n_teachers}" if k % 5 == 0 and n_teachers > 1 else ""
        subject = SUBJECTS[k % len(SUBJECTS)]
        grade = str(1 + k % 12)
        sw.writerow(
            [
                f"SCH{school}",
                f"SEC{k}",
                f"T{teacher}",
                co,
                f"{subject.title()} {k}",
                grade,
                subject,
                f"{subject.title()} {grade}",
                f"C{k % 60}",
                "2025-2026",
                "08/18/2025",
                "05/29/2026",
            ]
        )
        size = min(SECTION_SIZE, hi - lo)
        for i in rnd.sample(range(lo, hi), size):
            ew.writerow([f"SCH{school}", f"SEC{k}", f"S{i}"])
            enrolments += 1
    sh.close()
    eh.close()
    counts["enrollments"] = enrolments
    return counts


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and write the district."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, required=True, help="number of students")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSV files to")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = generate(args.students, args.out, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    print(f"wrote {args.out}: {summary} in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
